"""/metrics in the Prometheus text format: counts and latencies of all organizations together, never task
contents or per-organization figures. Meant for the operator's network; FIRMSCOUT_API__METRICS_TOKEN makes
it ask for a token of its own."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Gauge, generate_latest

from firmscout.api.deps import ServiceDep
from firmscout.errors import Unauthorized

router = APIRouter()
STATUSES = ("created", "in_progress", "done", "failed")


@router.get("/metrics", include_in_schema=False)
async def metrics(service: ServiceDep, request: Request) -> Response:
    required = request.app.state.runtime.settings.api.metrics_token
    if required is not None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip().encode()
        if not hmac.compare_digest(given, required.get_secret_value().encode()):
            raise Unauthorized("GET /metrics needs the operator's token (FIRMSCOUT_API__METRICS_TOKEN) as a Bearer.")
    counts = await service.counts_by_status()
    # Task gauges are read from the database at scrape time, so every API process reports the same truth.
    scrape = CollectorRegistry()
    tasks = Gauge("firmscout_tasks", "Discovery tasks by status.", ["status"], registry=scrape)
    for status in STATUSES:
        tasks.labels(status).set(counts.get(status, 0))
    Gauge("firmscout_queue_depth", "Tasks waiting for or in work (created + in_progress).",
          registry=scrape).set(counts.get("created", 0) + counts.get("in_progress", 0))
    body = generate_latest(REGISTRY) + generate_latest(scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
