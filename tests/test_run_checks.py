"""What scripts/pipeline.py checks before any Spark work: the values it is given,
the export folder, and the lock that keeps a second run out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import pipeline

PROJECT_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "run_state"
    monkeypatch.setattr(pipeline, "STATE_DIR", folder)
    monkeypatch.setenv("WEB_EVENTS_SCHEMA", "web_events_lock")
    return folder


def test_make_run_values_are_the_options_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    odd = 'it\'s a $HOME; `id` "x"'
    monkeypatch.setenv("WEB_EVENTS_EVENTS", odd)
    monkeypatch.setenv("WEB_EVENTS_EXPORT_DIR", odd + "/out")
    monkeypatch.setenv("WEB_EVENTS_TARGET", "thrift")
    monkeypatch.setenv("WEB_EVENTS_FULL_REFRESH", "1")
    monkeypatch.setenv("WEB_EVENTS_VARS", '{"a": 1}')
    args = pipeline.parse_args(["run"])
    assert (args.events, args.export_dir, args.target) == (odd, odd + "/out", "thrift")
    assert args.full_refresh and args.vars == '{"a": 1}'
    # options on the command line win
    assert pipeline.parse_args(["run", "--events", "e"]).events == "e"
    for off in ("", "0", "no", "false"):
        monkeypatch.setenv("WEB_EVENTS_FULL_REFRESH", off)
        assert not pipeline.parse_args(["run"]).full_refresh


def test_an_empty_events_path_is_refused() -> None:
    with pytest.raises(pipeline.PipelineError, match=r"^EVENTS is empty"):
        pipeline.resolve_events_path(" ")


def test_user_vars_are_merged_and_may_not_replace_the_commands_own() -> None:
    pattern = "yyyy-MM-dd'T'HH:mm:ss"
    text = '{"event_timestamp_format": "' + pattern + '"}'
    assert pipeline.parse_user_vars(text, "VARS") == {"event_timestamp_format": pattern}
    assert pipeline.parse_user_vars("a: 1", "VARS") == {"a": 1}
    assert pipeline.parse_user_vars("", "VARS") == {}
    with pytest.raises(pipeline.PipelineError, match=r"may not set events_path: .*EVENTS"):
        pipeline.parse_user_vars('{"events_path": "x"}', "VARS")
    with pytest.raises(pipeline.PipelineError, match="must be a mapping"):
        pipeline.parse_user_vars("[1, 2]", "VARS")
    with pytest.raises(pipeline.PipelineError, match="not valid YAML or JSON"):
        pipeline.parse_user_vars('{"a": ', "VARS")


def test_vars_after_the_double_dash_are_taken_out_of_dbts_arguments() -> None:
    rest, found = pipeline.split_dbt_vars(
        ["--select", "x", "--vars", '{"a": 1}', "--vars={b: 2}", "--fail-fast"]
    )
    assert rest == ["--select", "x", "--fail-fast"]
    assert found == ['{"a": 1}', "{b: 2}"]
    with pytest.raises(pipeline.PipelineError, match="needs a value"):
        pipeline.split_dbt_vars(["--vars"])


def test_an_unknown_target_is_named_with_the_ones_there_are() -> None:
    with pytest.raises(pipeline.PipelineError, match=r"unknown target 'nope': .* local, thrift"):
        pipeline.profile_output("nope")


def test_an_export_folder_that_cannot_be_created_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(pipeline.PipelineError, match="cannot be created: Not a directory"):
        pipeline.check_export_dir(tmp_path / "a_file" / "exports")


def test_an_export_folder_that_cannot_be_written_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only folder (as root, permissions do not stop a write: the check is
    shown the error a read-only file system gives)."""
    real_open = os.open

    def read_only(path: str | Path, flags: int, mode: int = 0o777) -> int:
        if flags & os.O_CREAT:
            raise OSError(30, "Read-only file system", str(path))
        return real_open(path, flags, mode)

    monkeypatch.setattr(pipeline.os, "open", read_only)
    with pytest.raises(pipeline.PipelineError) as error:
        pipeline.check_export_dir(tmp_path)
    assert str(error.value).startswith(
        f"export folder '{tmp_path}' cannot be written: Read-only file system"
    )
    monkeypatch.undo()
    pipeline.check_export_dir(tmp_path / "new" / "exports")
    assert list((tmp_path / "new" / "exports").iterdir()) == []  # no probe file left


def test_a_second_run_is_refused_while_one_holds_the_lock(state_dir: Path) -> None:
    with (
        pipeline.run_lock("local"),
        pytest.raises(pipeline.PipelineError) as error,
        pipeline.run_lock("local"),
    ):
        pass
    message = str(error.value)
    assert message.startswith("another run is under way in this project")
    assert f"(pid {os.getpid()}," in message and "\n" not in message
    with pipeline.run_lock("local"):  # released when the first run ended
        pass


def test_the_thrift_lock_is_per_target_and_schema(state_dir: Path) -> None:
    assert pipeline.lock_file("thrift") == state_dir / "thrift-web_events_lock" / "run.lock"
    assert pipeline.lock_file("local") == state_dir / "local.lock"


def test_a_killed_run_does_not_leave_the_lock_stuck(state_dir: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from scripts import pipeline\n"
            "with pipeline.run_lock('local'):\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(600)\n",
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, "WEB_EVENTS_RUN_DIR": str(state_dir)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with (
            pytest.raises(pipeline.PipelineError, match=f"pid {holder.pid}"),
            pipeline.run_lock("local"),
        ):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with pipeline.run_lock("local"):
        pass
