"""/metrics in the Prometheus text format. Unauthenticated, like most scrape targets: it exposes counts
and latencies, never task contents."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Gauge, generate_latest

from firmscout.api.deps import ServiceDep

router = APIRouter()
STATUSES = ("created", "in_progress", "done", "failed")


@router.get("/metrics", include_in_schema=False)
async def metrics(service: ServiceDep) -> Response:
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
