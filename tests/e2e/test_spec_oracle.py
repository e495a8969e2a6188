"""Unit tests of the SPEC oracle: each SPEC example and rule, with concrete expected values."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import spec_oracle as oracle

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOOD = {
    "event_id": "893479324983546",
    "user": {"session_id": "564561", "id": 56456, "ip": "111.222.333.4"},
    "action": "page_view",
    "url": "https://www.hipages.com.au/articles",
    "timestamp": "02/02/2017 20:22:00",
}


def event_line(**changes: Any) -> str:
    """The SPEC example event as a JSON line, with top-level fields replaced or removed."""
    record: dict[str, Any] = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if value is ...:
            record.pop(key)
        else:
            record[key] = value
    return json.dumps(record, ensure_ascii=False)


def with_user_id(value: Any) -> str:
    user = dict(GOOD["user"])  # type: ignore[arg-type]
    user["id"] = value
    return event_line(user=user)


def reason_of(line: str) -> str | None:
    """The rejection reason for one line (rules 1-7), or None when it is accepted."""
    try:
        oracle.validate("/in.json", 1, line)
    except oracle.Rejected as rejected:
        return rejected.reason
    return None


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# ---------------------------------------------------------------------------------------------
# URL levels


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # The examples in SPEC.md
        ("https://www.hipages.com.au/articles", ("hipages.com.au", "articles", None)),
        ("www.hipages.com.au/articles", ("hipages.com.au", "articles", None)),
        ("hipages.com.au/x", ("hipages.com.au", "x", None)),
        ("https://WWW.HiPages.com.au:443/a", ("hipages.com.au", "a", None)),
        (
            "https://www.hipages.com.au/connect/sfelectrics/service/190625",
            ("hipages.com.au", "connect", "sfelectrics"),
        ),
        ("https://www.hipages.com.au/", ("hipages.com.au", None, None)),
        # Prefix labels, user info, ports, query strings and fragments
        ("w3.hipages.com.au/articles", ("hipages.com.au", "articles", None)),
        ("http://www2.hipages.com.au/find/plumbers", ("hipages.com.au", "find", "plumbers")),
        ("https://wwwfoo.com/a", ("wwwfoo.com", "a", None)),
        ("https://www.", ("www.", None, None)),
        ("https://user:pw@www.Example.com:8080/A/b?c=d#e", ("example.com", "A", "b")),
        ("https://a@b@host.com/x", ("host.com", "x", None)),
        ("https://www.hipages.com.au?q=/a/b", ("hipages.com.au", None, None)),
        ("https://www.hipages.com.au#/a/b", ("hipages.com.au", None, None)),
        (
            "https://www.hipages.com.au/get_quotes_simple?search_str=sfdg",
            ("hipages.com.au", "get_quotes_simple", None),
        ),
        (
            "https://www.hipages.com.au/photos/kitchens#top",
            ("hipages.com.au", "photos", "kitchens"),
        ),
        ("//cdn.x/y", ("cdn.x", "y", None)),
        ("  https://x.com//a//b/  ", ("x.com", "a", "b")),
        ("hipages.com.au", ("hipages.com.au", None, None)),
        ("https://www.hipages.com.au/artículos/baño", ("hipages.com.au", "artículos", "baño")),
        # No host
        ("https:///articles", None),
        ("/articles/only", None),
        ("?q=1", None),
        ("https://:443/a", None),
        ("https://user@/a", None),
    ],
)
def test_url_levels(url: str, expected: tuple[str, ...] | None) -> None:
    assert oracle.url_levels(url) == expected


# ---------------------------------------------------------------------------------------------
# Rules 1-7, one line at a time


@pytest.mark.parametrize(
    "line",
    [
        '{"event_id": "1", "user": {"id": 5',  # truncated
        "this is not json",
        "[1, 2]",
        '"just a string"',
        "null",
        event_line(user="abc"),
        event_line(user=[1]),
        event_line(user=5),
        event_line(event_id={"a": 1}),
        event_line(action=["page_view"]),
        event_line(url=True),
        event_line(timestamp={"t": 1}),
        event_line(user={"id": 1, "session_id": False}),
        event_line(user={"id": 1, "ip": ["1.2.3.4"]}),
        with_user_id({"n": 1}),
        with_user_id(True),
        event_line(event_id=float("nan")),  # json.dumps writes NaN
        event_line(user={"id": float("inf")}),  # json.dumps writes Infinity
        '{"event_id": "1", "event_id": "2"}',  # duplicate key
        event_line().replace('"id": 56456', '"id": 56456, "id": 7'),  # duplicate nested key
        "\ufeff" + event_line(),  # byte order mark
        "[" * 100_000,  # nested too deep for the parser
    ],
)
def test_malformed_json(line: str) -> None:
    assert reason_of(line) == "malformed_json"


def test_unknown_fields_of_any_shape_are_ignored() -> None:
    assert reason_of(event_line(extra={"a": [1, True]}, more=[None])) is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (event_line(event_id=...), "missing_event_id"),
        (event_line(event_id=None), "missing_event_id"),
        (event_line(event_id=""), "missing_event_id"),
        (event_line(event_id=" \t "), "missing_event_id"),
        (event_line(user=...), "missing_user_id"),
        (event_line(user=None), "missing_user_id"),
        (event_line(user={}), "missing_user_id"),
        (with_user_id(None), "missing_user_id"),
        (with_user_id(""), "missing_user_id"),
        (with_user_id("   "), "missing_user_id"),
        (with_user_id("abc"), "invalid_user_id"),
        (with_user_id("-5"), "invalid_user_id"),
        (with_user_id("56456.0"), "invalid_user_id"),
        (with_user_id("5 6"), "invalid_user_id"),
        (with_user_id("\u0665"), "invalid_user_id"),  # an Arabic-Indic digit is not [0-9]
        (with_user_id("9223372036854775808"), "invalid_user_id"),
        (with_user_id(56456.5), "invalid_user_id"),
        (with_user_id(9223372036854775808), "invalid_user_id"),
        (with_user_id(-9223372036854775809), "invalid_user_id"),
        (event_line().replace('"id": 56456', '"id": 1e400'), "invalid_user_id"),
        (event_line().replace('"id": 56456', '"id": 1e-5'), "invalid_user_id"),
        (event_line(action=...), "missing_action"),
        (event_line(action=None), "missing_action"),
        (event_line(action=""), "missing_action"),
        (event_line(action=" \t\n "), "missing_action"),
        (event_line(timestamp="2017-02-31 25:00:00"), "invalid_timestamp"),
        (event_line(timestamp="02/30/2017 10:00:00"), "invalid_timestamp"),
        (event_line(timestamp=""), "invalid_timestamp"),
        (event_line(timestamp=...), "invalid_timestamp"),
        (event_line(timestamp=None), "invalid_timestamp"),
        (event_line(timestamp="2/2/2017 20:22:00"), "invalid_timestamp"),
        (event_line(timestamp="02/02/2017 24:00:00"), "invalid_timestamp"),
        (event_line(timestamp="02/02/2017 23:60:00"), "invalid_timestamp"),
        (event_line(timestamp="02/02/2017 23:59:60"), "invalid_timestamp"),
        (event_line(timestamp="13/01/2017 00:00:00"), "invalid_timestamp"),
        (event_line(timestamp="02/29/2017 00:00:00"), "invalid_timestamp"),
        (event_line(timestamp="01/01/0000 00:00:00"), "invalid_timestamp"),
        (event_line(timestamp="02/02/2017 20:22:00.000"), "invalid_timestamp"),
        (event_line(timestamp="02/02/2017T20:22:00"), "invalid_timestamp"),
        (event_line(timestamp=20170202), "invalid_timestamp"),
        (event_line(url=...), "invalid_url"),
        (event_line(url=None), "invalid_url"),
        (event_line(url=""), "invalid_url"),
        (event_line(url="  "), "invalid_url"),
        (event_line(url="https:///articles"), "invalid_url"),
    ],
)
def test_rejection_reason(line: str, reason: str) -> None:
    assert reason_of(line) == reason


def test_first_failing_rule_names_the_reason() -> None:
    everything_wrong = event_line(event_id="", user=None, action="", timestamp="x", url="")
    assert reason_of(everything_wrong) == "missing_event_id"
    assert reason_of(event_line(user=None, action="", url="")) == "missing_user_id"
    assert reason_of(event_line(action="", timestamp="x")) == "missing_action"
    assert reason_of(event_line(timestamp="x", url="")) == "invalid_timestamp"


# ---------------------------------------------------------------------------------------------
# Normalisation of accepted events


def test_spec_example_event() -> None:
    event = oracle.validate("/in.json", 7, event_line())
    assert (event.event_id, event.user_id, oracle.fmt(event.time_stamp)) == (
        "893479324983546",
        56456,
        "2017-02-02 20:22:00",
    )
    assert (event.url_level1, event.url_level2, event.url_level3, event.activity) == (
        "hipages.com.au",
        "articles",
        None,
        "page_view",
    )


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [
        (56456, 56456),
        ("56456", 56456),
        (" 56456 ", 56456),
        ("007", 7),
        (56456.0, 56456),
        (-5, -5),
        (9223372036854775807, 9223372036854775807),
        ("9223372036854775807", 9223372036854775807),
        (-9223372036854775808, -9223372036854775808),
    ],
)
def test_valid_user_ids(user_id: Any, expected: int) -> None:
    assert oracle.validate("/in.json", 1, with_user_id(user_id)).user_id == expected


def test_user_id_in_exponent_form_is_an_integer() -> None:
    line = event_line().replace('"id": 56456', '"id": 1e3')
    assert oracle.validate("/in.json", 1, line).user_id == 1000


def test_action_is_trimmed_and_lower_cased() -> None:
    assert oracle.validate("/in.json", 1, event_line(action=" Page_View ")).activity == "page_view"
    assert oracle.validate("/in.json", 1, event_line(action="\tCLAIM\n")).activity == "claim"
    assert oracle.validate("/in.json", 1, event_line(action="Réservé")).activity == "réservé"


def test_numbers_in_text_fields_are_read_as_text() -> None:
    event = oracle.validate("/in.json", 1, event_line(event_id=893479324983546, action=42))
    assert (event.event_id, event.activity) == ("893479324983546", "42")
    event = oracle.validate("/in.json", 1, event_line().replace('"893479324983546"', "1.5e3"))
    assert event.event_id == "1.5e3"


def test_text_fields_are_trimmed() -> None:
    line = event_line(event_id="  42\t", timestamp=" 02/29/2016 23:59:59 ")
    event = oracle.validate("/in.json", 1, line)
    assert (event.event_id, oracle.fmt(event.time_stamp)) == ("42", "2016-02-29 23:59:59")


def test_lone_surrogate_is_written_as_question_mark() -> None:
    line = event_line().replace('"page_view"', '"a\\ud800b"')
    assert oracle.validate("/in.json", 1, line).activity == "a?b"


# ---------------------------------------------------------------------------------------------
# Files, lines, dedup and the three tables


def test_bad_inputs_fixture_counts() -> None:
    tables = oracle.build([FIXTURES / "bad_inputs.jsonl"])
    reasons = Counter(row[2] for row in tables["rejected_events"])
    assert reasons == {
        "malformed_json": 3,
        "missing_event_id": 1,
        "missing_user_id": 1,
        "invalid_user_id": 1,
        "missing_action": 2,
        "invalid_timestamp": 3,
        "invalid_url": 2,
        "duplicate_event": 2,
    }
    assert len(tables["user_activity"]) == 13
    assert len(tables["hrly_granular_activity"]) == 11
    assert sum(int(row[4]) for row in tables["hrly_granular_activity"]) == 13


def test_bad_inputs_fixture_rows() -> None:
    tables = oracle.build([FIXTURES / "bad_inputs.jsonl"])
    source = str((FIXTURES / "bad_inputs.jsonl").resolve())
    rejected = {int(row[1]): row for row in tables["rejected_events"]}
    assert sorted(rejected) == [3, 4, 5, 6, 7, 8, 10, 13, 14, 16, 17, 18, 19, 28, 30]
    assert {row[0] for row in rejected.values()} == {source}
    assert rejected[3][2:4] == ["malformed_json", ""]
    assert rejected[4][2:] == ["malformed_json", "", "this line is not JSON at all"]
    assert rejected[6][2:4] == ["duplicate_event", "1003"]
    assert rejected[7][2:4] == ["missing_event_id", ""]
    assert rejected[28][2:4] == ["duplicate_event", "1001"]
    lines = (FIXTURES / "bad_inputs.jsonl").read_text(encoding="utf-8").split("\n")
    assert all(row[4] == lines[number - 1] for number, row in rejected.items())

    activity = tables["user_activity"]
    assert activity[0] == [
        "56456",
        "2017-02-02 20:22:00",
        "hipages.com.au",
        "articles",
        "",
        "page_view",
    ]
    assert [
        "56456",
        "2017-02-02 21:00:00",
        "hipages.com.au",
        "find",
        "electricians",
        "list_directory",
    ] in activity
    assert [
        "57482",
        "2017-02-02 20:40:00",
        "hipages.com.au",
        "artículos",
        "baño",
        "réserver_devis",
    ] in activity
    assert [
        "56456",
        "2017-02-02 22:05:00",
        "homeimprovementpages.com.au",
        "Find",
        "Plumbers",
        "button_click",
    ] in activity
    assert activity[-1] == ["57140", "2017-02-02 22:20:00", "hipages.com.au", "", "", "page_view"]
    assert [
        "57482",
        "2017-02-02 21:45:00",
        "homeimprovementpages.com.au",
        "articles",
        "",
        'say "hi", then click',
    ] in activity

    hourly = tables["hrly_granular_activity"]
    assert hourly[0] == ["2017020220", "hipages.com.au", "articles", "page_view", "3", "2"]
    assert ["2017020222", "hipages.com.au", "", "page_view", "1", "1"] in hourly
    assert {row[0] for row in hourly} == {"2017020220", "2017020221", "2017020222"}


def test_empty_file_gives_empty_tables() -> None:
    tables = oracle.build([FIXTURES / "empty.jsonl"])
    assert tables == {name: [] for name in oracle.HEADERS}


def test_missing_file_fails_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(FileNotFoundError, match=r"nope\.json"):
        oracle.build([missing])


def test_only_the_default_timestamp_format_is_supported() -> None:
    with pytest.raises(ValueError, match="MM/dd/yyyy HH:mm:ss"):
        oracle.build([FIXTURES / "empty.jsonl"], timestamp_format="yyyy-MM-dd HH:mm:ss")


def test_blank_lines_and_line_endings(tmp_path: Path) -> None:
    bad = "not json"
    data = f"\r\n{event_line()}\r\n \t\x0b\f\r{bad}\n\n{bad}\r\n"
    path = write(tmp_path / "e.json", data)
    tables = oracle.build([path])
    assert len(tables["user_activity"]) == 1
    assert [(row[1], row[4]) for row in tables["rejected_events"]] == [("4", bad), ("6", bad)]


def test_only_cr_and_lf_break_lines(tmp_path: Path) -> None:
    line = event_line(action="a\u2028b\x85c")  # ensure_ascii=False keeps them raw in the line
    assert "\u2028" in line
    path = write(tmp_path / "e.json", line + "\n" + "\u00a0\n")
    tables = oracle.build([path])
    assert tables["user_activity"][0][5] == "a\u2028b\x85c"
    assert [row[1:3] for row in tables["rejected_events"]] == [["2", "malformed_json"]]


def test_invalid_utf8_is_replaced_not_fatal(tmp_path: Path) -> None:
    data = event_line(action="XY").encode("utf-8").replace(b"XY", b"\xffX") + b"\n"
    tables = oracle.build([write(tmp_path / "e.json", data)])
    assert tables["user_activity"][0][5] == "\ufffdx"


def test_dedup_keeps_earliest_time_even_from_a_later_file(tmp_path: Path) -> None:
    first = write(tmp_path / "a.json", event_line(timestamp="02/02/2017 20:22:00", action="late"))
    second = write(tmp_path / "b.json", event_line(timestamp="02/02/2017 20:21:59", action="early"))
    tables = oracle.build([second, first])
    assert [row[5] for row in tables["user_activity"]] == ["early"]
    assert [row[:4] for row in tables["rejected_events"]] == [
        [str(first.resolve()), "1", "duplicate_event", "893479324983546"]
    ]


def test_dedup_tie_goes_to_the_file_sorted_first(tmp_path: Path) -> None:
    first = write(tmp_path / "a.json", event_line(action="from_a"))
    second = write(tmp_path / "b.json", event_line(action="from_b"))
    tables = oracle.build([second, first])  # the order given does not matter
    assert [row[5] for row in tables["user_activity"]] == ["from_a"]
    assert tables["rejected_events"][0][0] == str(second.resolve())


def test_dedup_tie_in_one_file_goes_to_the_earlier_line(tmp_path: Path) -> None:
    lines = [event_line(action="one"), event_line(action="two"), event_line(action="three")]
    tables = oracle.build([write(tmp_path / "a.json", "\n".join(lines))])
    assert [row[5] for row in tables["user_activity"]] == ["one"]
    assert [(row[1], row[2]) for row in tables["rejected_events"]] == [
        ("2", "duplicate_event"),
        ("3", "duplicate_event"),
    ]


def test_dedup_ignores_rejected_lines(tmp_path: Path) -> None:
    lines = [event_line(timestamp="02/02/2017 20:00:00", url=""), event_line()]
    tables = oracle.build([write(tmp_path / "a.json", "\n".join(lines))])
    assert len(tables["user_activity"]) == 1
    assert [row[2] for row in tables["rejected_events"]] == ["invalid_url"]


def test_tables_are_sorted_with_nulls_first(tmp_path: Path) -> None:
    lines = [
        with_user_id(10).replace("893479324983546", "1"),
        with_user_id(9).replace("893479324983546", "2"),
        event_line(event_id="3", url="https://www.hipages.com.au/"),
        event_line(event_id="4", url="https://www.hipages.com.au/b"),
        event_line(event_id="5", url="https://www.hipages.com.au/B"),
        event_line(event_id="6", timestamp="02/02/2017 19:59:59"),
    ]
    tables = oracle.build([write(tmp_path / "a.json", "\n".join(lines))])
    assert [row[0] + "|" + row[1][11:] + "|" + row[3] for row in tables["user_activity"]] == [
        "56456|19:59:59|articles",
        "9|20:22:00|articles",
        "10|20:22:00|articles",
        "56456|20:22:00|",
        "56456|20:22:00|B",
        "56456|20:22:00|b",
    ]
    assert tables["hrly_granular_activity"] == [
        ["2017020219", "hipages.com.au", "articles", "page_view", "1", "1"],
        ["2017020220", "hipages.com.au", "", "page_view", "1", "1"],
        ["2017020220", "hipages.com.au", "B", "page_view", "1", "1"],
        ["2017020220", "hipages.com.au", "articles", "page_view", "2", "2"],
        ["2017020220", "hipages.com.au", "b", "page_view", "1", "1"],
    ]


def test_directory_and_glob_inputs(tmp_path: Path) -> None:
    write(tmp_path / "b.json", event_line(event_id="b"))
    write(tmp_path / "a.json", event_line(event_id="a"))
    write(tmp_path / "_SUCCESS", "not json")
    write(tmp_path / ".hidden", "not json")
    expected = [(tmp_path / "a.json").resolve(), (tmp_path / "b.json").resolve()]
    assert oracle.resolve_inputs(str(tmp_path)) == expected
    assert oracle.resolve_inputs(str(tmp_path / "*.json")) == expected
    assert oracle.expand_paths([tmp_path / "b.json", tmp_path, tmp_path / "a.json"]) == expected
    with pytest.raises(FileNotFoundError, match="nothing"):
        oracle.resolve_inputs(str(tmp_path / "nothing*.json"))


def test_cli_writes_five_csvs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert oracle.main(["--events", str(FIXTURES / "*.jsonl"), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "daily_active_users.csv",
        "hrly_granular_activity.csv",
        "rejected_events.csv",
        "user_activity.csv",
        "user_sessions.csv",
    ]
    activity = (out / "user_activity.csv").read_bytes().decode("utf-8")
    assert activity.startswith("user_id,time_stamp,url_level1,url_level2,url_level3,activity\n")
    assert (
        '57482,2017-02-02 21:45:00,homeimprovementpages.com.au,articles,,"say ""hi"", then click"\n'
        in activity
    )
    assert "\r" not in activity
    with (out / "rejected_events.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["source_file", "line_number", "reason", "event_id", "raw_record"]
    assert len(rows) == 16
    assert oracle.main(["--events", str(tmp_path / "missing.json"), "--out", str(out)]) == 2


def test_csv_quoting_is_rfc4180(tmp_path: Path) -> None:
    tables: dict[str, list[list[str]]] = {name: [] for name in oracle.HEADERS}
    tables["user_activity"] = [["1", "2017-02-02 20:22:00", "x", "", "", 'a,b"c\rd\ne']]
    oracle.write_csvs(tables, tmp_path)
    text = (tmp_path / "user_activity.csv").read_bytes().decode("utf-8")
    assert text.splitlines(keepends=True)[0].endswith("activity\n")
    assert text.endswith('1,2017-02-02 20:22:00,x,,,"a,b""c\rd\ne"\n')
    assert (tmp_path / "rejected_events.csv").read_text() == (
        "source_file,line_number,reason,event_id,raw_record\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
