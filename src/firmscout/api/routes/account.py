"""/v1/user, /v1/billing and /v1/healthcheck."""

from __future__ import annotations

from fastapi import APIRouter

from firmscout import __version__
from firmscout.api.company_schemas import BillingOut, Subscription
from firmscout.api.deps import CallerDep
from firmscout.api.schemas import Health, UserOut, error_responses
from firmscout.tasks.accounts import Caller

router = APIRouter(prefix="/v1")


def _user(caller: Caller) -> UserOut:
    return UserOut(
        user_id=caller.user_id,
        email=caller.email,
        available_credits=caller.available_credits,
        organization_id=caller.organization_id,
        organization_name=caller.organization_name,
        organization_slug=caller.organization_slug,
        organization_is_active=caller.organization_is_active,
    )


@router.get("/user", response_model=UserOut, tags=["user"], summary="Get User", responses=error_responses(401))
async def get_user(caller: CallerDep) -> UserOut:
    return _user(caller)


@router.get("/billing", response_model=BillingOut, tags=["user"], summary="Get Billing",
            description="The account and its plan. Self-hosted has no plans: every feature is allowed.",
            responses=error_responses(401))
async def get_billing(caller: CallerDep) -> BillingOut:
    return BillingOut(user=_user(caller), subscription=Subscription(requires_subscription=False, plan_tier="pro"))


@router.get("/healthcheck", response_model=Health, tags=["health"], summary="Healthcheck")
async def healthcheck() -> Health:
    return Health(status="ok", version=__version__)
