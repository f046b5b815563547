"""Batches of a file's records, read in a thread or a child process: same batches, same errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from firmscout.catalog.chunks import PROCESS_THRESHOLD, ChunkReader, Mode, choose_mode
from firmscout.catalog.readers import ReadResult, parse_mapping
from firmscout.errors import ImportFailed
from tests.catalog.test_service import LISTINGS_MAP, write_listings

MODES: list[Mode] = ["thread", "process"]


def read_all(reader: ChunkReader) -> list[list[ReadResult]]:
    chunks = []
    while chunk := reader.next_chunk():
        chunks.append(chunk)
    assert reader.next_chunk() == []  # stays at the end
    return chunks


class TestChunkReader:
    def test_process_yields_the_thread_batches(self, tmp_path: Path) -> None:
        path = write_listings(tmp_path / "listings.csv", 230)
        mapping = parse_mapping(LISTINGS_MAP)
        batches = {}
        for mode in MODES:
            with ChunkReader(path, mapping, 50, mode) as reader:
                batches[mode] = read_all(reader)
        assert [len(chunk) for chunk in batches["process"]] == [50, 50, 50, 50, 30]
        assert batches["process"] == batches["thread"]
        assert any(record is None for chunk in batches["process"] for record, _ in chunk)  # skips travel too

    @pytest.mark.parametrize("mode", MODES)
    def test_a_missing_column_fails_the_same_way(self, tmp_path: Path, mode: Mode) -> None:
        path = write_listings(tmp_path / "listings.csv", 10)
        with ChunkReader(path, parse_mapping(["name=name", "website=homepage"]), 50, mode) as reader, \
                pytest.raises(ImportFailed, match="has no column 'homepage'"):
            reader.next_chunk()

    @pytest.mark.parametrize("mode", MODES)
    def test_a_truncated_file_fails_after_the_batches_before(self, tmp_path: Path, mode: Mode) -> None:
        path = tmp_path / "listings.csv.gz"
        path.write_bytes(gzip.compress(write_listings(tmp_path / "listings.csv", 300).read_bytes())[:-20])
        read = 0
        with ChunkReader(path, parse_mapping(LISTINGS_MAP), 50, mode) as reader, \
                pytest.raises(ImportFailed, match="Cannot read"):
            while chunk := reader.next_chunk():
                read += len(chunk)
        assert 0 < read < 300

    def test_closing_early_stops_the_child(self, tmp_path: Path) -> None:
        path = write_listings(tmp_path / "listings.csv", 300)
        reader = ChunkReader(path, parse_mapping(LISTINGS_MAP), 10, "process")
        assert len(reader.next_chunk()) == 10
        process = reader._process
        assert process is not None
        reader.close()
        assert not process.is_alive()

    def test_large_files_go_to_a_process(self, tmp_path: Path) -> None:
        small = write_listings(tmp_path / "small.csv", 10)
        large = tmp_path / "large.csv"
        large.write_bytes(b"x" * PROCESS_THRESHOLD)
        assert (choose_mode(small), choose_mode(large), choose_mode(tmp_path / "missing.csv")) == (
            "thread", "process", "thread")
