"""user_sessions and daily_active_users stay equal to SPEC (and to a full rebuild) as files
arrive with late events that merge sessions, extend one across midnight, move a user's first
day, displace an event, and grow the calendar at both ends."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.harness import (
    assert_same_exports,
    oracle_exports,
    read_exports,
    run_pipeline,
)


def _event(event_id: str, user_id: int, timestamp: str, path: str = "find/plumbers") -> str:
    return json.dumps(
        {
            "event_id": event_id,
            "user": {"session_id": "s1", "id": user_id, "ip": "10.0.0.1"},
            "action": "page_view" if int(event_id.rsplit("-", 1)[1]) % 3 else "button_click",
            "url": f"https://www.hipages.com.au/{path}",
            "timestamp": timestamp,
        }
    )


# file by file: (name, events). Day 1 is 03/01/2017.
ARRIVALS = [
    (
        "a.json",
        [
            # user 1: two sessions, 40 minutes apart
            _event("u1-1", 1, "03/01/2017 10:00:00"),
            _event("u1-2", 1, "03/01/2017 10:20:00", "connect/x"),
            _event("u1-3", 1, "03/01/2017 11:00:00", "articles"),
            # user 2: a session that ends before midnight
            _event("u2-1", 2, "03/01/2017 23:40:00"),
            _event("u2-2", 2, "03/01/2017 23:50:00"),
            # user 3: first seen on day 5
            _event("u3-1", 3, "03/05/2017 09:00:00"),
            # user 4: exactly 30:00, then 30:01 apart
            _event("u4-1", 4, "03/02/2017 08:00:00"),
            _event("u4-2", 4, "03/02/2017 08:30:00"),
            _event("u4-3", 4, "03/02/2017 09:00:01"),
            # user 5: three events in one session; the middle one is displaced later
            _event("u5-1", 5, "03/03/2017 12:00:00"),
            _event("u5-2", 5, "03/03/2017 12:25:00"),
            _event("u5-3", 5, "03/03/2017 12:50:00"),
            # two events of one user in the same second
            _event("u6-1", 6, "03/03/2017 13:00:00", "b"),
            _event("u6-2", 6, "03/03/2017 13:00:00", "a"),
            # user 11: a session from day 6 into day 7, untouched by later files; day 6
            # is rewritten when user 8 comes (b.json), so its sessions are cut again
            _event("u11-1", 11, "03/06/2017 23:50:00"),
            _event("u11-2", 11, "03/07/2017 00:10:00"),
        ],
    ),
    (
        "b.json",
        [
            # late: merges user 1's two sessions (20 minutes either side)
            _event("u1-4", 1, "03/01/2017 10:40:00"),
            # extends user 2's session across midnight
            _event("u2-3", 2, "03/02/2017 00:15:00"),
            # user 3's first event is now day 2: new_users moves from day 5 to day 2
            _event("u3-2", 3, "03/02/2017 18:00:00"),
            # u5-2 again, earlier and for user 7: it displaces user 5's middle event,
            # which splits user 5's session (12:00 and 12:50 are 50 minutes apart)
            _event("u5-2", 7, "03/03/2017 11:00:00"),
            # a new user on day 6
            _event("u8-1", 8, "03/06/2017 07:00:00"),
        ],
    ),
    (
        "c.json",
        [
            # far after the last day: the days between are zeros; wau/mau reach into them
            _event("u9-1", 9, "04/10/2017 07:00:00"),
            _event("u1-5", 1, "04/10/2017 07:20:00"),
            # far before the first day: the calendar grows backwards
            _event("u10-1", 10, "01/15/2017 07:00:00"),
            _event("u1-6", 1, "01/15/2017 07:30:00"),
        ],
    ),
]


def test_sessions_and_active_users_arriving_file_by_file_equal_spec_and_a_rebuild(
    tmp_path: Path,
) -> None:
    arrivals = tmp_path / "events"
    arrivals.mkdir()
    incremental = tmp_path / "incremental"
    for number, (name, lines) in enumerate(ARRIVALS):
        (arrivals / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        output = run_pipeline(arrivals, incremental).check().output
        assert ("Rebuilding every table" in output) == (number == 0), output[-3000:]
        assert_same_exports(
            read_exports(incremental), oracle_exports([arrivals], tmp_path / f"oracle{number}")
        )

    sessions = read_exports(incremental)["user_sessions"].decode().splitlines()
    # merged: one session of user 1 on day 1, 10:00-11:00, four events
    assert (
        "1-20170301100000,1,2017-03-01 10:00:00,2017-03-01 11:00:00,3600,4,3,"
        "hipages.com.au,find,hipages.com.au,articles"
    ) in sessions
    # across midnight; exactly 30:00 stays, 30:01 does not
    assert any(
        row.startswith("2-20170301234000,2,2017-03-01 23:40:00,2017-03-02 00:15:00,")
        for row in sessions
    )
    assert any(
        row.startswith("4-20170302080000,4,2017-03-02 08:00:00,2017-03-02 08:30:00,1800,2,")
        for row in sessions
    )
    assert any(row.startswith("4-20170302090001,") for row in sessions)
    # a session across midnight whose start day was rewritten keeps its end
    assert any(
        row.startswith("11-20170306235000,11,2017-03-06 23:50:00,2017-03-07 00:10:00,1200,2,")
        for row in sessions
    )
    # two events in one second: the smaller event_id lands, the larger exits
    assert any(
        row.startswith("6-20170303130000,") and row.endswith(",hipages.com.au,a")
        for row in sessions
    )

    rebuilt = tmp_path / "rebuilt"
    run_pipeline(arrivals, rebuilt, "local", "--full-refresh").check()
    incremental_exports, rebuilt_exports = read_exports(incremental), read_exports(rebuilt)
    for name in ("user_sessions", "daily_active_users"):
        assert incremental_exports[name] == rebuilt_exports[name], name
