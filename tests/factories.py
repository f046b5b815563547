"""Plain typed factories for test data."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from firmscout.entities import CompanyProfile
from firmscout.storage.db import unit_of_work
from firmscout.storage.repositories.companies import upsert_companies
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime


async def create_token(runtime: Runtime, *, email: str = "ana@example.com", org: str | None = "Acme") -> str:
    return await accounts.create_token(runtime.sessions, email=email, org_name=org)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_companies(runtime: Runtime, records: list[CompanyProfile]) -> None:
    async with unit_of_work(runtime.sessions) as session:
        await upsert_companies(session, records)


def company(domain: str, name: str, **fields: Any) -> CompanyProfile:
    base: dict[str, Any] = {
        "domain": domain, "name": name, "website": f"https://www.{domain}", "description": None,
        "full_description": None, "country": None, "state": None, "city": None, "industries": (),
        "tags": (), "products": None, "founded_year": None, "employees": None, "employee_count": None,
        "revenue": None, "wikipedia_url": None, "linkedin_url": None, "status": None, "origin": "test",
    }
    base.update(fields)
    return CompanyProfile(**base)


async def wait_for_task(
    client: httpx.AsyncClient, token: str, task_id: str, *, statuses: tuple[str, ...] = ("done", "failed"),
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Poll GET /v1/discovery_tasks/{id} as a client would, until the task reaches one of `statuses`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get(f"/v1/discovery_tasks/{task_id}", headers=auth(token))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in statuses:
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"task still {body['status']} after {timeout}s: {body}")
        await asyncio.sleep(0.05)


def start_serve(env: dict[str, str], *args: str, log: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Start `firmscout serve` on a free loopback port and wait until it answers its healthcheck; its stderr
    (the JSON log) goes to `log` when given."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with log.open("ab") if log is not None else open(os.devnull, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "firmscout", "serve", "--port", str(port), *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"firmscout serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{base_url}/v1/healthcheck", timeout=1).status_code == 200:
                return proc, base_url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("firmscout serve did not come up in 60 s")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def cli_token(env: dict[str, str], email: str, org: str) -> str:
    run = subprocess.run([sys.executable, "-m", "firmscout", "token", "create", "--email", email, "--org", org],
                         env=env, capture_output=True, text=True, timeout=120, check=True)
    return run.stdout.strip().splitlines()[-1]
