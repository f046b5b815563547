"""Request dependencies: the task service and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import TaskService

# auto_error=False: we raise our own 401 with the spec's body instead of FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`")


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def caller(
    request: Request, _creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> accounts.Caller:
    return await accounts.authenticate(
        runtime(request).sessions, request.headers.get("authorization"), request.app.state.caller_cache
    )


# async, though it awaits nothing: FastAPI runs a plain `def` dependency in its thread pool, a hand-off to
# another thread and back on every request.
async def service(request: Request) -> TaskService:
    return runtime(request).service


CallerDep = Annotated[accounts.Caller, Depends(caller)]
ServiceDep = Annotated[TaskService, Depends(service)]
