"""How scripts/pipeline.py joins the CSV parts the marts' post-hooks leave."""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path
from typing import BinaryIO

import pytest

from scripts import pipeline
from scripts.file_listing import FinishedRun

HEADER = b"user_id,time_stamp\n"


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def folder_export(export_dir: Path, table: str, rows: bytes) -> None:
    """What `insert overwrite directory` leaves: sorted parts, each with a header."""
    parts = export_dir / pipeline.PARTS_DIR / table
    write(parts / "part-00000-a-c000.csv", HEADER + rows)
    write(parts / "part-00001-a-c000.csv", b"")  # an empty range
    write(parts / "_SUCCESS", b"")


def day_export(export_dir: Path) -> Path:
    """What the partitioned user_activity export leaves: a header-only root part, then days."""
    parts = export_dir / pipeline.PARTS_DIR / "user_activity"
    write(parts / "part-00000-x-c000.csv", HEADER)
    # written by three runs, so the job ids in the names differ
    for day, name, row in [
        ("2017-02-10", "part-00000-z.c000.csv", b"3,2017-02-10 01:00:00\n"),
        ("2017-02-02", "part-00001-b.c000.csv", b"2,2017-02-02 23:00:00\n"),
        ("2017-02-02", "part-00000-b.c000.csv", b"1,2017-02-02 01:00:00\n"),
        ("2017-01-31", "part-00003-c.c000.csv", b"0,2017-01-31 00:00:00\n"),
    ]:
        write(parts / f"event_date={day}" / name, HEADER + row)
    write(parts / "event_date=2017-01-31" / ".part-00003-c.c000.csv.crc", b"checksum")
    write(parts / "_SUCCESS", b"")
    return parts


def test_days_are_joined_in_date_order_under_one_header_and_kept(tmp_path: Path) -> None:
    parts = day_export(tmp_path)
    folder_export(tmp_path, "hrly_granular_activity", b"h\n")
    folder_export(tmp_path, "rejected_events", b"r\n")
    folder_export(tmp_path, "user_sessions", b"s\n")
    folder_export(tmp_path, "daily_active_users", b"d\n")

    pipeline.publish(tmp_path)

    assert (tmp_path / "user_activity.csv").read_bytes() == HEADER + (
        b"0,2017-01-31 00:00:00\n"
        b"1,2017-02-02 01:00:00\n"
        b"2,2017-02-02 23:00:00\n"
        b"3,2017-02-10 01:00:00\n"
    )
    assert (tmp_path / "hrly_granular_activity.csv").read_bytes() == HEADER + b"h\n"
    # the next run rewrites only the days that changed: the parts stay
    assert (parts / "event_date=2017-02-02").is_dir()


def test_a_day_export_with_no_day_has_the_header_only(tmp_path: Path) -> None:
    parts = tmp_path / pipeline.PARTS_DIR / "user_activity"
    write(parts / "part-00000-x-c000.csv", HEADER)
    write(parts / "_SUCCESS", b"")
    folder_export(tmp_path, "hrly_granular_activity", b"")
    folder_export(tmp_path, "rejected_events", b"")
    folder_export(tmp_path, "user_sessions", b"")
    folder_export(tmp_path, "daily_active_users", b"")

    pipeline.publish(tmp_path)

    assert (tmp_path / "user_activity.csv").read_bytes() == HEADER


def test_missing_parts_make_the_run_export_every_day(tmp_path: Path) -> None:
    day_export(tmp_path)
    folder_export(tmp_path, "hrly_granular_activity", b"")
    folder_export(tmp_path, "rejected_events", b"")
    folder_export(tmp_path, "user_sessions", b"")
    folder_export(tmp_path, "daily_active_users", b"")
    pipeline.publish(tmp_path)
    finished = FinishedRun("r1", "/in", str(tmp_path), "p", pipeline.export_parts(tmp_path), {})
    assert "user_activity/event_date=2017-01-31/part-00003-c.c000.csv" in finished.export_parts
    assert not pipeline.exports_incomplete(tmp_path, finished)
    # no record of a finished run: nothing is known to be in place
    assert pipeline.exports_incomplete(tmp_path, None)
    # a day's folder of the working area is gone, or a published file
    shutil.rmtree(tmp_path / pipeline.PARTS_DIR / "user_activity" / "event_date=2017-02-10")
    assert pipeline.exports_incomplete(tmp_path, finished)
    day_export(tmp_path)
    (tmp_path / "rejected_events.csv").unlink()
    assert pipeline.exports_incomplete(tmp_path, finished)


def test_an_unfinished_export_is_not_published(tmp_path: Path) -> None:
    day_export(tmp_path)
    (tmp_path / pipeline.PARTS_DIR / "user_activity" / "_SUCCESS").unlink()
    with pytest.raises(pipeline.PipelineError, match="no complete CSV export of user_activity"):
        pipeline.publish(tmp_path)
    assert not (tmp_path / "user_activity.csv").exists()


def all_exports(export_dir: Path, rows: bytes) -> None:
    for table in pipeline.EXPORT_TABLES:
        folder_export(export_dir, table, rows)


def test_published_csvs_get_the_mode_the_umask_gives(tmp_path: Path) -> None:
    all_exports(tmp_path, b"1,x\n")
    for umask, mode in [(0o022, 0o644), (0o027, 0o640)]:
        old = os.umask(umask)
        try:
            pipeline.publish(tmp_path)
        finally:
            os.umask(old)
        for table in pipeline.EXPORT_TABLES:
            assert stat.S_IMODE((tmp_path / f"{table}.csv").stat().st_mode) == mode


def test_a_full_disk_keeps_the_previous_csvs_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    all_exports(tmp_path, b"1,old\n")
    pipeline.publish(tmp_path)
    before = {path.name: path.read_bytes() for path in tmp_path.glob("*.csv")}
    all_exports(tmp_path, b"2,new\n")
    join_parts = pipeline.join_parts
    calls = []

    def fills_the_disk(parts: list[Path], out: BinaryIO) -> None:
        calls.append(parts)
        if len(calls) == 2:  # the second table: the first is written whole by then
            out.write(HEADER)
            out.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        join_parts(parts, out)

    monkeypatch.setattr(pipeline, "join_parts", fills_the_disk)
    with pytest.raises(pipeline.PipelineError) as error:
        pipeline.publish(tmp_path)

    message = str(error.value)
    assert "could not write" in message and "hrly_granular_activity.csv" in message
    assert "the disk is full" in message and "\n" not in message
    assert {path.name: path.read_bytes() for path in tmp_path.glob("*.csv")} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        pipeline.PARTS_DIR,
        *sorted(before),
    ]


def test_a_full_disk_ends_the_run_command_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """main() prints a PipelineError as one line and returns 1 (no traceback)."""

    def io_error(parts: list[Path], out: BinaryIO) -> None:
        raise OSError(errno.EIO, "Input/output error")

    def fails(args: object) -> None:
        all_exports(tmp_path, b"1,x\n")
        monkeypatch.setattr(pipeline, "join_parts", io_error)
        pipeline.publish(tmp_path)

    monkeypatch.setattr(pipeline, "run", fails)
    assert pipeline.main(["run"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: could not write ") and "Input/output error" in err
    assert len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_failed_rename_names_the_file_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    all_exports(tmp_path, b"1,old\n")
    pipeline.publish(tmp_path)
    all_exports(tmp_path, b"2,new\n")
    real_replace = os.replace
    calls = []

    def fails_second(source: Path, target: Path) -> None:
        calls.append(target)
        if len(calls) == 2:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        real_replace(source, target)

    monkeypatch.setattr(pipeline.os, "replace", fails_second)
    with pytest.raises(pipeline.PipelineError) as error:
        pipeline.publish(tmp_path)

    assert str(error.value).startswith(
        f"could not replace {tmp_path / 'hrly_granular_activity.csv'}: Read-only file system; "
        "this file and the next are still those of the last run that published"
    )
    assert (tmp_path / "user_activity.csv").read_bytes() == HEADER + b"2,new\n"
    assert (tmp_path / "hrly_granular_activity.csv").read_bytes() == HEADER + b"1,old\n"
    assert not list(tmp_path.glob(".*.tmp"))
