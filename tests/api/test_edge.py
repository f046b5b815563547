"""The HTTP edge against a real `firmscout serve`, on SQLite and PostgreSQL: every malformed request gets a
4xx with the usual JSON body, its access-log line and a request id, and writes nothing."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import cli_token, start_serve, stop

pytestmark = pytest.mark.slow

TASKS = "/v1/discovery_tasks"
# Every route with a task id in its path, and its method.
ID_ROUTES = (("GET", TASKS + "/{}"), ("GET", TASKS + "/{}/results"), ("POST", TASKS + "/{}/resume"))
ROUTES = (("GET", "/v1/healthcheck"), ("GET", "/v1/user"), ("GET", TASKS), ("POST", TASKS), ("GET", "/metrics"),
          *((method, path.format("00000000-0000-4000-8000-000000000000")) for method, path in ID_ROUTES))
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@dataclass
class Edge:
    base_url: str
    token: str
    database_url: str
    log: Path

    @property
    def host_port(self) -> tuple[str, int]:
        host, port = self.base_url.removeprefix("http://").split(":")
        return host, int(port)

    def raw(self, request: bytes) -> int:
        """Send bytes as they are (no client library to refuse them) and return the response's status."""
        with socket.create_connection(self.host_port, timeout=10) as conn:
            conn.sendall(request)
            head = b""
            while b"\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                head += chunk
        return int(head.split(b" ", 2)[1])

    def request(self, method: str, target: bytes, *, headers: tuple[tuple[bytes, bytes], ...] = (),
                body: bytes | None = None, auth: bool = True) -> int:
        lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: firmscout.test", b"Connection: close"]
        if auth:
            lines.append(b"Authorization: Bearer " + self.token.encode())
        lines += [name + b": " + value for name, value in headers]
        if body is not None:
            lines += [b"Content-Type: application/json", b"Content-Length: " + str(len(body)).encode()]
        return self.raw(b"\r\n".join(lines) + b"\r\n\r\n" + (body or b""))

    def tasks_stored(self) -> int:
        if self.database_url.startswith("sqlite"):
            import sqlite3

            with sqlite3.connect(self.database_url.removeprefix("sqlite:///")) as db:
                return int(db.execute("SELECT count(*) FROM discovery_task").fetchone()[0])
        with psycopg.connect(self.database_url) as db:
            row = db.execute("SELECT count(*) FROM discovery_task").fetchone()
            return int(row[0]) if row else 0

    def access_lines(self) -> list[dict[str, Any]]:
        lines = self.log.read_text(errors="replace").splitlines()
        return [entry for raw in lines if raw.startswith("{")
                if (entry := json.loads(raw)).get("logger") == "firmscout.access"]


@pytest.fixture(scope="module")
def edge(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    data = tmp_path_factory.mktemp("edge")
    env = {**os.environ, "FIRMSCOUT_DATABASE_URL": db_url, "FIRMSCOUT_DATA_DIR": str(data),
           "FIRMSCOUT_BOOTSTRAP_TOKEN": "false", "FIRMSCOUT_API__CREATE_BURST": "100000",
           "FIRMSCOUT_API__MAX_BODY_BYTES": "4096", "FIRMSCOUT_SEED_BUILTIN_COMPANIES": "false"}
    token = cli_token(env, "edge@example.com", "Edge")
    log = data / "serve.log"
    proc, base_url = start_serve(env, "--no-worker", log=log)
    try:
        yield Edge(base_url, token, db_url, log)
    finally:
        stop(proc)


def _json_post(edge: Edge, text: str) -> httpx.Response:
    return httpx.post(edge.base_url + TASKS, content=text.encode("utf-8", "surrogatepass"),
                      headers={"Authorization": f"Bearer {edge.token}", "Content-Type": "application/json"})


class TestReproductions:
    @pytest.mark.parametrize("number", ["1e400", "NaN", "-Infinity", "Infinity"])
    def test_a_non_finite_count_is_a_422_that_does_not_echo_it(self, edge: Edge, number: str) -> None:
        response = _json_post(edge, f'{{"query": "banks", "desired_num_results": {number}}}')
        assert response.status_code == 422, response.text
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body", "desired_num_results"] and "input" not in error

    @pytest.mark.parametrize("text", ["banks \\ud800", "banks\\u0000 in Spain", "\\udfffbanks"])
    def test_nul_or_a_lone_surrogate_is_a_422_naming_the_field(self, edge: Edge, text: str) -> None:
        before = edge.tasks_stored()
        response = _json_post(edge, f'{{"query": "{text}"}}')
        assert response.status_code == 422, response.text
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body", "query"] and error["msg"]
        assert edge.tasks_stored() == before

    def test_the_same_in_a_criterion_and_an_unknown_key(self, edge: Edge) -> None:
        criterion = _json_post(edge, '{"query": "banks", "criteria": [{"key": "k", "name": "N\\u0000",'
                                     ' "criterion": "A bank in Spain, for sure"}]}')
        assert criterion.status_code == 422 and criterion.json()["detail"][0]["loc"] == [
            "body", "criteria", 0, "name"]
        unknown = _json_post(edge, '{"query": "banks", "\\ud800": 1}')
        assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"][0] == "body"

    def test_a_header_that_is_not_utf8_is_handled_and_logged(self, edge: Edge) -> None:
        assert edge.request("GET", b"/v1/healthcheck", headers=((b"User-Agent", b"caf\xe9"),), auth=False) == 200
        assert edge.request("GET", b"/v1/user", headers=((b"Authorization", b"Bearer \xff\xfe"),), auth=False) == 401
        assert edge.request("GET", b"/v1/healthcheck", headers=((b"X-Request-ID", b"\xe9t\xe9"),), auth=False) == 200
        assert any(line["path"] == "/v1/healthcheck" and len(line["request_id"]) == 32 for line in edge.access_lines())

    @pytest.mark.parametrize(("method", "path"), ID_ROUTES)
    def test_a_nul_in_a_path_id_is_a_404(self, edge: Edge, method: str, path: str) -> None:
        assert edge.request(method, path.format("%00").encode(), body=b"{}" if method == "POST" else None) == 404

    def test_a_chunked_body_over_the_limit_is_a_413_and_writes_nothing(self, edge: Edge) -> None:
        before = edge.tasks_stored()
        padding = " " * 8000
        body = f'{{"query": "banks in Spain"{padding}}}'.encode()
        chunks = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:3000], body[3000:]))
        request = (b"POST " + TASKS.encode() + b" HTTP/1.1\r\nHost: firmscout.test\r\nConnection: close\r\n"
                   b"Authorization: Bearer " + edge.token.encode() + b"\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
        assert edge.raw(request) == 413
        assert edge.tasks_stored() == before

    def test_a_request_id_is_kept_only_when_it_is_short_and_plain(self, edge: Edge) -> None:
        plain = httpx.get(edge.base_url + "/v1/healthcheck", headers={"X-Request-ID": "job-42.a:b_c"})
        assert plain.headers["x-request-id"] == "job-42.a:b_c"
        for odd in ("x" * 129, "a b", "<script>", "a\tb"):
            response = httpx.get(edge.base_url + "/v1/healthcheck", headers={"X-Request-ID": odd})
            assert response.headers["x-request-id"] != odd and len(response.headers["x-request-id"]) == 32

    @pytest.mark.parametrize("count", ["true", "false", "5.0", '"5"'])
    def test_counts_are_whole_numbers(self, edge: Edge, count: str) -> None:
        created = _json_post(edge, f'{{"query": "banks", "desired_num_results": {count}}}')
        assert created.status_code == 422 and created.json()["detail"][0]["loc"] == ["body", "desired_num_results"]

    @pytest.mark.parametrize("query", ["%", "' OR 1=1 --", "companies", "the"])
    def test_a_query_with_nothing_to_search_is_refused_at_create(self, edge: Edge, query: str) -> None:
        before = edge.tasks_stored()
        response = httpx.post(edge.base_url + TASKS, json={"query": query},
                              headers={"Authorization": f"Bearer {edge.token}"})
        assert response.status_code == 422, response.text
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body", "query"] and "nothing to search for" in error["msg"]
        assert edge.tasks_stored() == before


# Any JSON value, with the awkward ones in: non-finite floats, NUL, lone surrogates, huge integers.
_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=30)
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | _TEXT
JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
                    max_leaves=12)
FIELDS = st.sampled_from(["query", "desired_num_results", "criteria", "exclude_domains", "exclude_task_ids",
                          "data_sources", "auto_data_sources", "table", "notify", "desired_new_results"])


def _dump(value: Any) -> bytes:
    # NaN and Infinity as Python writes them, lone surrogates as JSON escapes: what a hostile client sends.
    return json.dumps(value).encode()


class TestNoInputMakesA5xx:
    @PROPERTY
    @given(route=st.sampled_from(ROUTES), name=st.sampled_from([b"User-Agent", b"X-Request-ID", b"Authorization",
                                                                 b"Accept", b"Content-Type", b"X-Anything"]),
           value=st.binary(max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")))
    def test_any_header_bytes(self, edge: Edge, route: tuple[str, str], name: bytes, value: bytes) -> None:
        method, path = route
        status = edge.request(method, path.encode(), headers=((name, value),), body=b"{}" if method == "POST" else None)
        assert status < 500, (route, name, value)

    @PROPERTY
    @given(route=st.sampled_from(ID_ROUTES), raw=st.binary(max_size=40))
    def test_any_path_bytes(self, edge: Edge, route: tuple[str, str], raw: bytes) -> None:
        method, path = route
        status = edge.request(method, path.format(quote_from_bytes(raw, safe="")).encode(),
                              body=b"{}" if method == "POST" else None)
        assert status < 500, (route, raw)

    @PROPERTY
    @given(route=st.sampled_from([("POST", TASKS), *(r for r in ID_ROUTES if r[0] == "POST")]),
           body=st.dictionaries(FIELDS, JSON, max_size=5) | JSON)
    def test_any_json_body(self, edge: Edge, route: tuple[str, str], body: Any) -> None:
        method, path = route
        before = edge.tasks_stored()
        status = edge.request(method, path.format("00000000-0000-4000-8000-000000000000").encode(),
                              body=_dump(body))
        assert status < 500, body
        assert edge.tasks_stored() == before + (status == 200 and path == TASKS)

    @PROPERTY
    @given(body=st.binary(max_size=200))
    def test_any_body_bytes(self, edge: Edge, body: bytes) -> None:
        assert edge.request("POST", TASKS.encode(), body=body) < 500, body
