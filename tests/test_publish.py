"""How scripts/pipeline.py joins the CSV parts the marts' post-hooks leave."""

from __future__ import annotations

import shutil
from pathlib import Path

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
