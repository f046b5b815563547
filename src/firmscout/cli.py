"""Command line. Each command parses its arguments and calls the same service functions as the API."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from firmscout import __version__
from firmscout.config import Settings
from firmscout.errors import FirmscoutError, InvalidField

app = typer.Typer(help="Firmscout: self-hostable company discovery (Extruct Deep Search compatible).",
                  no_args_is_help=True, add_completion=False)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
companies_app = typer.Typer(help="The local company database.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(companies_app, name="companies")

# soft_wrap: an error stays one line even when stderr is not a terminal (rich would wrap at 80 columns).
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


@contextmanager
def _reported() -> Iterator[None]:
    """Any error becomes one clear line on stderr and exit code 1."""
    try:
        yield
    except FirmscoutError as exc:
        loc = [str(p) for p in exc.loc if p != "body"] if isinstance(exc, InvalidField) else []
        where = f" ({'.'.join(loc)})" if loc else ""
        err.print(f"[red]error{where}:[/red] {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def _run(coro_fn: Callable[[], Awaitable[T]], runner: Callable[..., Any] | None = None) -> T:
    """Run a command's coroutine, on `runner` when given (else asyncio's)."""
    with _reported():
        if runner is not None:
            result: T = runner(coro_fn)
            return result
        return asyncio.run(coro_fn())  # type: ignore[arg-type]


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    worker: Annotated[
        bool | None,
        typer.Option(help="Also run the worker here. Default: yes on SQLite, no on PostgreSQL (run "
                          "`firmscout worker` processes)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="API processes on the port, PostgreSQL only (default "
                                         "FIRMSCOUT_API__WORKERS, 1)."),
    ] = None,
) -> None:
    """Run the HTTP API (and, on SQLite, the worker in the same process)."""
    from firmscout.commands.api_server import run, serve_in_processes
    from firmscout.commands.serve import check_processes, prepare
    from firmscout.commands.serve import serve as run_serve
    from firmscout.tasks.runtime import embedded

    settings = Settings()
    with_worker = worker if worker is not None else embedded(settings)
    processes = workers or settings.api.workers
    with _reported():
        check_processes(settings, workers=processes, with_worker=with_worker)
    if processes > 1:
        _run(lambda: prepare(settings, host=host, port=port, workers=processes))
        serve_in_processes(host, port, processes)
        return
    _run(lambda: run_serve(settings, host=host, port=port, with_worker=with_worker), run)


@app.command("worker")
def worker_command() -> None:
    """Run a worker alone: it claims queued tasks from the database until interrupted."""
    from firmscout.commands.serve import work

    _run(lambda: work(Settings()))


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Option(help="The user's email; created if new.")],
    org: Annotated[str | None, typer.Option(help="Organization name; created if new.")] = None,
    expires_in: Annotated[
        int | None,
        typer.Option(min=1, metavar="DAYS", help="Refuse the token after this many days. Default: it never expires."),
    ] = None,
) -> None:
    """Create an API token; it is printed once, alone on the last line."""
    from firmscout.commands.tokens import create_token

    token = _run(lambda: create_token(Settings(), email=email, org=org, expires_in_days=expires_in))
    lasts = f", valid for {expires_in} days" if expires_in is not None else ""
    typer.echo(f"Token for {email}{lasts} (shown once; only its hash is stored):")
    typer.echo(token)


@token_app.command("list")
def token_list(
    email: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None,
    json_out: Annotated[bool, typer.Option("--json", metavar="", help="Print the tokens as JSON.")] = False,
) -> None:
    """List API tokens by id (a prefix of the token's hash; the token itself is never stored)."""
    from firmscout.commands.tokens import list_tokens, print_tokens, token_json

    tokens = _run(lambda: list_tokens(Settings(), email=email))
    if json_out:
        typer.echo(json.dumps([token_json(t) for t in tokens], indent=2))
    else:
        print_tokens(tokens)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(metavar="ID", help="The token's id, as `firmscout token list` shows it.")],
) -> None:
    """Revoke an API token. API processes that checked it in the last FIRMSCOUT_API__AUTH_CACHE_S seconds
    (default 30) may still accept it until then."""
    from firmscout.commands.tokens import revoke_token

    settings = Settings()
    done = _run(lambda: revoke_token(settings, token_id))
    if done.already:
        typer.echo(f"Token {done.token.id} ({done.token.email}) was already revoked.")
    else:
        typer.echo(f"Revoked token {done.token.id} ({done.token.email}); API processes that checked it recently "
                   f"may accept it for up to {settings.api.auth_cache_s:g} s more (FIRMSCOUT_API__AUTH_CACHE_S).")


# catalog.readers.CANONICAL_FIELDS, written out so the CLI starts without importing the catalog (a test compares).
_IMPORT_FIELDS = ("name, website, domain, description, full_description, country, state, city, location, industry, "
                  "tags, products, founded_year, employees, employee_count, revenue, linkedin_url, wikipedia_url, "
                  "status")


@companies_app.command("import")
def companies_import(
    file: Annotated[Path, typer.Argument(help="CSV (plain or .gz) or JSON Lines (.jsonl/.ndjson, plain or .gz).")],
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=COLUMN[,COLUMN…]; repeatable. FIELD is one of: " + _IMPORT_FIELDS),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Rows per transaction.")] = 5000,
) -> None:
    """Upsert companies from a file into the local database, keyed by registered domain."""
    from firmscout.commands.admin import import_companies

    _run(lambda: import_companies(Settings(), file, map_ or [], batch_size=batch_size))


@companies_app.command("count")
def companies_count() -> None:
    """Print how many companies the local database holds."""
    from firmscout.commands.admin import count_companies

    typer.echo(_run(lambda: count_companies(Settings())))


@companies_app.command("embed")
def companies_embed() -> None:
    r"""Embed companies for hybrid (full-text + dense) retrieval; needs `pip install 'firmscout\[semantic]'`.

    Only companies without a vector, or whose text changed since, are embedded; an interrupted run resumes.
    """
    from firmscout.commands.admin import embed_companies

    _run(lambda: embed_companies(Settings()))


@app.command()
def explain(
    query: Annotated[
        str | None, typer.Argument(help='A query, e.g. "Nordic banks founded before 1900".', show_default=False)
    ] = None,
    task: Annotated[
        str | None,
        typer.Option("--task", help="Explain a task of this machine's `search` runs instead: why it found what it "
                     "found, criterion by criterion.", show_default=False),
    ] = None,
    # metavar="": typer 0.29's rich help prints a type after every option, `--json <bool>` as if the flag took
    # a value; an empty metavar leaves that column blank (its `is_flag` is deprecated and changes nothing there).
    json_out: Annotated[bool, typer.Option("--json", metavar="", help="Print the parse as JSON.")] = False,
) -> None:
    """Show how a query is understood: inferred criteria, structured constraints, search terms (and, with an
    LLM configured by FIRMSCOUT_LLM__*, the LLM's refinement a task would use). With --task, show how many
    candidates each criterion of that task removed."""
    if (query is None) == (task is None):
        err.print("[red]error:[/red] give either a query or --task TASK_ID.", highlight=False)
        raise typer.Exit(1)
    if task is not None:
        from firmscout.commands.explain import explain_task, print_task_explanation

        found = _run(lambda: explain_task(Settings(), task))
        if json_out:
            typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        else:
            print_task_explanation(found)
        return
    from firmscout.commands.explain import print_explanation
    from firmscout.tasks.explain import explain as parse

    assert query is not None
    result = _run(lambda: parse(query, Settings()))
    if json_out:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print_explanation(result)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='What to find, e.g. "banks in Spain".')],
    n: Annotated[int, typer.Option("-n", "--num", help="Desired number of results (1-250).")] = 25,
    criteria: Annotated[
        Path | None, typer.Option(help='JSON file: [{"key", "name", "criterion"}, ...].')
    ] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Domain or URL to exclude; repeatable.")] = None,
    source: Annotated[list[str] | None, typer.Option(
        help="Data source to search (extruct_db, web_search, linkedin, maps); repeatable. Default: the database "
             "and, once a search provider is set, web_search.")] = None,
    json_out: Annotated[bool, typer.Option("--json", metavar="", help="Write the results as JSON to stdout.")] = False,
    csv_out: Annotated[bool, typer.Option("--csv", metavar="", help="Write the results as CSV to stdout.")] = False,
) -> None:
    """Run a discovery task here, with a live progress bar, then print the graded results."""
    from firmscout.commands.search import run_search

    crit: list[dict[str, Any]] | None = None
    if criteria is not None:
        try:
            crit = json.loads(criteria.read_text())
        except (OSError, ValueError) as exc:
            err.print(f"[red]error (criteria):[/red] cannot read {criteria}: {exc}", highlight=False)
            raise typer.Exit(1) from None
    fmt = "json" if json_out else "csv" if csv_out else "table"
    rows = _run(lambda: run_search(Settings(), query, n=n, criteria=crit, exclude=exclude or [],
                                   sources=source or [], show_progress=fmt == "table"))
    if fmt == "json":
        json.dump(rows, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    elif fmt == "csv":
        _write_csv(rows)
    else:
        from firmscout.commands.search import print_table

        print_table(rows)


@app.command()
def mcp(
    transport: Annotated[str, typer.Option(help="stdio (an MCP client starts this command) or http (streamable "
                                                "HTTP at http://HOST:PORT/mcp).")] = "stdio",
    host: Annotated[str, typer.Option(help="Interface to listen on (http).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (http).")] = 8765,
) -> None:
    """Run an MCP server for agents: deep_search, get_task, get_results, resume_task, explain_query,
    search_companies, find_similar, as this machine's local user (needs the `mcp` extra)."""
    from firmscout.commands import mcp_server

    if transport not in ("stdio", "http"):
        err.print(f"[red]error (--transport):[/red] {transport!r} is not stdio or http.", highlight=False)
        raise typer.Exit(1)
    if not mcp_server.available():
        from rich.markup import escape

        err.print(f"[red]error:[/red] {escape(mcp_server.INSTALL_HINT)}", highlight=False)
        raise typer.Exit(1)
    _run(lambda: mcp_server.run(Settings(), "http" if transport == "http" else "stdio", host, port))


def _write_csv(rows: list[dict[str, Any]]) -> None:
    fields = ["company_name", "company_website", "relevance", "hq_country", "hq_city", "founding_year",
              "employee_count", "company_description", "scores"]
    writer = csv.DictWriter(sys.stdout, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "scores": json.dumps(row.get("scores", {}))})
