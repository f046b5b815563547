"""Prometheus metrics shared by the API and the pipeline (bottom layer: no imports of our own code)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "firmscout_http_requests_total", "HTTP requests served.", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "firmscout_http_request_duration_seconds", "HTTP request latency.", ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
STAGE_DURATION = Histogram(
    "firmscout_pipeline_stage_duration_seconds", "Duration of one pipeline step, by stage.", ["stage"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
