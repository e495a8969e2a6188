"""Tests of scripts/generate_events.py: reproducible, counts as asked, and agreeing with SPEC."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from scripts import generate_events as gen
from tests.e2e import spec_oracle as oracle


def lines_of(paths: list[Path]) -> list[str]:
    return [line for path in paths for line in path.read_text(encoding="utf-8").splitlines()]


def event_time(line: str) -> datetime | None:
    match = re.search(r'"timestamp" : "(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d)"', line)
    return datetime.strptime(match.group(1), "%m/%d/%Y %H:%M:%S") if match else None


def test_same_seed_gives_same_bytes(tmp_path: Path) -> None:
    options = {"files": 3, "bad_share": 0.1, "duplicate_share": 0.1, "late_share": 0.1, "seed": 5}
    gen.generate(tmp_path / "a", 3000, **options)
    gen.generate(tmp_path / "b", 3000, **options)
    gen.generate(tmp_path / "c", 3000, **{**options, "seed": 6})
    for name in ("events_0001.json", "events_0002.json", "events_0003.json"):
        first = (tmp_path / "a" / name).read_bytes()
        assert first == (tmp_path / "b" / name).read_bytes()
        assert first != (tmp_path / "c" / name).read_bytes()


def test_requested_counts_and_file_names(tmp_path: Path) -> None:
    stats = gen.generate(tmp_path / "out", 1000, files=3)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["events_0001.json", "events_0002.json", "events_0003.json"]
    counts = [len(lines_of([tmp_path / "out" / name])) for name in names]
    assert counts == [333, 333, 334]
    assert (stats.lines, stats.good, stats.duplicates, stats.late) == (1000, 1000, 0, 0)
    single = gen.generate(tmp_path / "one.json", 10)
    assert single.files == [tmp_path / "one.json"]
    assert len(lines_of(single.files)) == 10


def test_good_events_look_like_the_sample(tmp_path: Path) -> None:
    stats = gen.generate(tmp_path / "e.json", 2000, start="02/02/2017 20:00:00")
    records = [json.loads(line) for line in lines_of(stats.files)]
    assert set(records[0]) == {"event_id", "user", "action", "url", "timestamp"}
    assert records[0]["event_id"] == "100000000000000"
    assert {r["action"] for r in records} == {
        "page_view",
        "button_click",
        "list_directory",
        "claim",
    }
    urls = [r["url"] for r in records]
    assert any(u.startswith("https://www.") for u in urls)
    assert any(u.startswith("www.") for u in urls)
    assert any(u.startswith("w3.") for u in urls)
    assert any("?" in u for u in urls)
    assert len({r["user"]["id"] for r in records}) > 1000
    times = [event_time(line) for line in lines_of(stats.files)]
    assert times == sorted(times)
    assert times[0] >= datetime(2017, 2, 2, 20, 0, 0)


def test_bad_share_is_honoured_and_spread_over_every_kind(tmp_path: Path) -> None:
    stats = gen.generate(tmp_path / "e.json", 6000, bad_share=0.2, seed=1)
    bad = sum(stats.bad.values())
    assert 0.17 * 6000 < bad < 0.23 * 6000
    assert len(stats.bad) == 12
    assert max(stats.bad.values()) - min(stats.bad.values()) <= 1


def test_late_events_fall_in_an_earlier_hour(tmp_path: Path) -> None:
    stats = gen.generate(tmp_path / "d", 4000, files=2, late_share=0.1, seed=2)
    assert 300 < stats.late < 500
    late = 0
    for path in stats.files:
        latest: datetime | None = None
        for line in lines_of([path]):
            when = event_time(line)
            assert when is not None
            if latest and when.replace(minute=0, second=0) < latest.replace(minute=0, second=0):
                late += 1
            else:
                latest = when
    assert late == stats.late


def test_duplicates_reach_back_into_earlier_files(tmp_path: Path) -> None:
    stats = gen.generate(tmp_path / "d", 6000, files=3, duplicate_share=0.1, seed=3)
    ids = [{json.loads(line)["event_id"] for line in lines_of([path])} for path in stats.files]
    assert ids[0] & ids[2]
    assert 500 < stats.duplicates < 700


def test_oracle_accepts_exactly_the_good_lines(tmp_path: Path) -> None:
    stats = gen.generate(
        tmp_path / "d",
        5000,
        files=3,
        bad_share=0.12,
        duplicate_share=0.08,
        late_share=0.05,
        seed=11,
    )
    tables = oracle.build(stats.files)
    reasons = Counter(row[2] for row in tables["rejected_events"])
    expected = {reason: n for reason, n in stats.expected_rejections().items() if n}
    assert reasons == expected
    assert len(tables["user_activity"]) == stats.good + stats.late
    assert stats.lines == 5000 == stats.good + stats.late + sum(reasons.values())


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--events", "50", "--out", str(tmp_path / "e.json"), "--start-event-id", "7"]
    assert gen.main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["lines"] == summary["accepted"] == 50
    assert json.loads(lines_of([tmp_path / "e.json"])[0])["event_id"] == "7"


def test_bursts_shape_gives_sessions_of_several_events_and_gaps_at_the_timeout(
    tmp_path: Path,
) -> None:
    stats = gen.generate(tmp_path / "e.json", 20000, shape="bursts", days=1, seed=4)
    times_by_user: dict[str, list[datetime]] = {}
    for line in lines_of(stats.files):
        record = json.loads(line)
        times_by_user.setdefault(str(record["user"]["id"]), []).append(
            datetime.strptime(record["timestamp"], "%m/%d/%Y %H:%M:%S")
        )
    gaps = Counter(
        (later - earlier).total_seconds()
        for times in times_by_user.values()
        for earlier, later in zip(sorted(times), sorted(times)[1:], strict=False)
    )
    # right at the timeout: the same session (30:00) and the next one (30:01); same second
    assert gaps[1800] > 50 and gaps[1801] > 50 and gaps[0] > 50
    # most events are in sessions of several events
    sessions = oracle.build(stats.files)["user_sessions"]
    in_several = sum(int(row[5]) for row in sessions if int(row[5]) > 1)
    assert in_several > 0.5 * stats.good
    # the uniform shape is unchanged by the option
    plain = gen.generate(tmp_path / "plain.json", 2000, seed=4)
    again = gen.generate(tmp_path / "again.json", 2000, seed=4, shape="uniform")
    assert plain.files[0].read_bytes() == again.files[0].read_bytes()
    with pytest.raises(ValueError, match="shape"):
        gen.generate(tmp_path / "x.json", 10, shape="waves")
