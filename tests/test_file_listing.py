"""The run command's file listing (scripts/file_listing.py), without Spark.

What is checked here is what the ledger builds on: files found as Spark finds
them, lines counted as Spark splits them, and the fingerprints that tell a
grown file from a changed one.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from scripts import file_listing
from scripts.file_listing import FinishedRun, LineCounter, ListingError


def count(data: bytes, chunk: int) -> tuple[int, int]:
    counter = LineCounter()
    for start in range(0, len(data), chunk):
        counter.feed(data[start : start + chunk])
    counter.finish()
    return counter.lines, counter.non_blank


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1000])
def test_lines_are_counted_as_spark_splits_them_whatever_the_chunks(chunk: int) -> None:
    # \n, \r\n and \r end a line; a last line without one counts; blank lines
    # (whitespace only) are lines but not events
    data = b'{"a":1}\n\n{"b":2}\r\n \t\r{"c":3}\r\r\n{"d":4}'
    assert count(data, chunk) == (7, 4)
    assert count(b"", chunk) == (0, 0)
    assert count(b"x\n", chunk) == (1, 1)
    assert count(b"\r\n\r\n", chunk) == (2, 0)


def test_a_new_file_is_measured_whole(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_bytes(b'{"a":1}\n  \n{"b":2}\n')
    measured = file_listing.measure(str(path), None)
    assert measured.fingerprint == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (measured.line_count, measured.non_blank_lines) == (3, 2)
    assert measured.last_line_complete
    assert measured.prefix_bytes is None and measured.prefix_fingerprint is None


def test_a_grown_file_keeps_the_fingerprint_of_what_was_read(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b'{"a":1}\n{"b":2}\n')
    before = file_listing.measure(str(path), None)
    with path.open("ab") as handle:
        handle.write(b'{"c":3}\n\n{"d":4}')
    after = file_listing.measure(str(path), before)
    assert after.prefix_bytes == before.size_bytes
    assert after.prefix_fingerprint == before.fingerprint
    assert after.line_count == 5
    assert after.non_blank_lines == 2  # only the lines after the old ones
    assert not after.last_line_complete
    finished = FinishedRun("r1", "/in", "/out", "p", [], {str(path): before})
    assert file_listing.changed_files([after], finished) == []


def test_a_rewritten_or_truncated_file_is_changed(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_bytes(b'{"a":1}\n{"b":2}\n')
    before = file_listing.measure(str(path), None)
    finished = FinishedRun("r1", "/in", "/out", "p", [], {str(path): before})
    path.write_bytes(b'{"a":9}\n{"b":2}\n{"c":3}\n')  # longer, but an old byte changed
    assert file_listing.changed_files([file_listing.measure(str(path), before)], finished) == [
        str(path)
    ]
    path.write_bytes(b'{"a":1}\n')  # truncated
    assert file_listing.changed_files([file_listing.measure(str(path), before)], finished) == [
        str(path)
    ]


def test_a_file_that_ended_mid_line_and_grew_is_changed(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_bytes(b'{"a":1}\n{"b":')
    before = file_listing.measure(str(path), None)
    assert not before.last_line_complete
    finished = FinishedRun("r1", "/in", "/out", "p", [], {str(path): before})
    with path.open("ab") as handle:
        handle.write(b"2}\n")
    after = file_listing.measure(str(path), before)
    assert after.prefix_fingerprint == before.fingerprint
    assert file_listing.changed_files([after], finished) == [str(path)]


def test_an_untouched_file_is_not_read_again(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_bytes(b'{"a":1}\n')
    before = file_listing.measure(str(path), None)
    # same size and modification time: taken from the record, not re-hashed
    fake = file_listing.ListedFile(**{**before.__dict__, "fingerprint": "recorded"})
    again = file_listing.measure(str(path), fake)
    assert again.fingerprint == "recorded" and again.non_blank_lines == 0
    finished = FinishedRun("r1", "/in", "/out", "p", [], {str(path): before})
    assert file_listing.is_unchanged([str(path)], finished)
    os.utime(path, ns=(0, 0))
    assert not file_listing.is_unchanged([str(path)], finished)


def test_hidden_files_are_skipped_in_a_folder_and_refused_by_name(tmp_path: Path) -> None:
    for name in ("a.json", "_b.json", ".c.json", "d.json"):
        (tmp_path / name).write_text("{}\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e.json").write_text("{}\n")  # Spark does not descend into folders
    listing = file_listing.find_files(str(tmp_path))
    assert listing.files == [str(tmp_path / "a.json"), str(tmp_path / "d.json")]
    assert listing.hidden == [str(tmp_path / ".c.json"), str(tmp_path / "_b.json")]
    with pytest.raises(ListingError, match="is hidden"):
        file_listing.find_files(str(tmp_path / "_b.json"))
    glob_listing = file_listing.find_files(str(tmp_path / "*.json"))
    assert glob_listing.files == listing.files


def test_a_path_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ListingError, match="does not exist"):
        file_listing.find_files(str(tmp_path / "missing.json"))
    with pytest.raises(ListingError, match="matches no file"):
        file_listing.find_files(str(tmp_path / "missing_*.json"))
    with pytest.raises(ListingError, match="empty"):
        file_listing.find_files("  ")


def test_the_finished_record_holds_only_for_the_listing_it_finished(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_bytes(b'{"a":1}\n')
    measured = file_listing.measure(str(path), None)
    run_dir = tmp_path / "run"
    file_listing.write_listing(run_dir, [measured], "r1", str(tmp_path))
    assert file_listing.read_finished(run_dir) is None  # listed, not finished
    file_listing.record_finished(run_dir, FinishedRun("r1", str(tmp_path), "/out", "p", [], {}))
    finished = file_listing.read_finished(run_dir)
    assert finished is not None and finished.files == {str(path): measured}
    file_listing.forget_finished(run_dir)  # the next run starts
    assert file_listing.read_finished(run_dir) is None
    file_listing.record_finished(run_dir, FinishedRun("r1", str(tmp_path), "/out", "p", [], {}))
    file_listing.write_listing(run_dir, [measured], "r2", str(tmp_path))  # r2 did not finish
    assert file_listing.read_finished(run_dir) is None


def test_the_project_fingerprint_follows_models_and_settings(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "m.sql"
    model.write_text("select 1")
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    first = file_listing.project_fingerprint(tmp_path, {"vars": {"a": 1}})
    assert first == file_listing.project_fingerprint(tmp_path, {"vars": {"a": 1}})
    assert first != file_listing.project_fingerprint(tmp_path, {"vars": {"a": 2}})
    model.write_text("select 2")
    assert first != file_listing.project_fingerprint(tmp_path, {"vars": {"a": 1}})
