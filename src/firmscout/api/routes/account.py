"""/v1/user and /v1/healthcheck."""

from __future__ import annotations

from fastapi import APIRouter

from firmscout import __version__
from firmscout.api.deps import CallerDep
from firmscout.api.schemas import Health, UserOut, error_responses

router = APIRouter(prefix="/v1")


@router.get("/user", response_model=UserOut, tags=["user"], summary="Get User", responses=error_responses(401))
async def get_user(caller: CallerDep) -> UserOut:
    return UserOut(
        user_id=caller.user_id,
        email=caller.email,
        available_credits=caller.available_credits,
        organization_id=caller.organization_id,
        organization_name=caller.organization_name,
        organization_slug=caller.organization_slug,
        organization_is_active=caller.organization_is_active,
    )


@router.get("/healthcheck", response_model=Health, tags=["health"], summary="Healthcheck")
async def healthcheck() -> Health:
    return Health(status="ok", version=__version__)
