"""`companies import|count|embed`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from firmscout.catalog.embedding import embed_all, should_embed_after_import
from firmscout.catalog.service import ImportProgress, count, import_file, parse_mapping
from firmscout.config import Settings
from firmscout.errors import ImportFailed
from firmscout.tasks.runtime import open_runtime

if TYPE_CHECKING:
    from firmscout.embeddings.service import EmbedProgress

console = Console(stderr=True, soft_wrap=True)


async def count_companies(settings: Settings) -> int:
    # Seeded on first use, as `serve` and `search` do: the count is what they see.
    async with open_runtime(settings, seed=True) as runtime:
        return await count(runtime.sessions)


async def import_companies(settings: Settings, path: Path, pairs: list[str], *, batch_size: int) -> None:
    mapping = parse_mapping(pairs)
    if not path.is_file():
        raise ImportFailed(f"No such file: {path}")
    # Seed before importing: the seed only fills an empty database, so an import into a fresh one would
    # otherwise leave the built-in companies out for good (and imported rows then win over built-in ones).
    async with open_runtime(settings, seed=True) as runtime:
        with Progress(
            TextColumn("importing {task.description}"), BarColumn(), TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(), console=console, transient=False,
        ) as bar:
            job = bar.add_task(path.name, total=None, status="")

            def on_progress(p: ImportProgress) -> None:
                unchanged = f"{p.unchanged:,} unchanged, " if p.unchanged else ""
                bar.update(job, status=f"{p.rows_read:,} rows read, {p.created:,} created, {p.updated:,} updated, "
                                       f"{unchanged}{p.skipped:,} skipped")

            report = await import_file(runtime.sessions, path, mapping, batch_size=batch_size, progress=on_progress)
            embed = await should_embed_after_import(runtime.sessions, settings.semantic)
        if embed:
            await _embed(runtime.sessions, settings)

    def rows(n: int) -> str:
        return f"{n:,} row" if n == 1 else f"{n:,} rows"

    # Each company counts once however many rows list it, so "created" is how much the database grew.
    companies = "company" if report.created == 1 else "companies"
    unchanged = f"{report.unchanged:,} unchanged, " if report.unchanged else ""
    console.print(
        f"Imported {path}: {rows(report.rows_read)} read → {report.created:,} {companies} created, "
        f"{report.updated:,} updated, {unchanged}{rows(report.skipped)} skipped in {report.seconds:.1f} s "
        f"({report.rows_per_second:,.0f} rows/s).",
        highlight=False, markup=False,
    )
    for reason, n in sorted(report.skipped_by_reason.items(), key=lambda kv: -kv[1]):
        console.print(f"  skipped {n:,}: {reason}", highlight=False, markup=False)


async def _embed(sessions: Any, settings: Settings) -> None:
    with Progress(
        TextColumn("embedding companies"), BarColumn(), TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
        console=console, transient=False,
    ) as bar:
        job = bar.add_task("embed", total=None, status="loading the model")

        def on_progress(p: EmbedProgress) -> None:
            bar.update(job, status=f"{p.companies_seen:,} seen, {p.embedded:,} embedded, {p.unchanged:,} unchanged "
                                   f"({p.texts_per_second:,.0f} texts/s)")

        done = await embed_all(sessions, settings.semantic, progress=on_progress)
    console.print(
        f"Embedded {done.embedded:,} companies ({done.unchanged:,} unchanged, skipped) with {settings.semantic.model} "
        f"in {done.seconds:.1f} s ({done.texts_per_second:,.0f} texts/s).",
        highlight=False,
    )


async def embed_companies(settings: Settings) -> None:
    """Give every company without a current vector one; a cut-off run resumes where it stopped."""
    async with open_runtime(settings, seed=True) as runtime:
        await _embed(runtime.sessions, settings)
