"""The whole pipeline through a real Spark Thrift server (dbt-spark's thrift method).

The server is started by scripts/thrift-server.sh (what `make thrift-up` and
docker-compose run) on a free port, with a state folder of this test session, so
it never meets a user's own server. One server serves the whole module; the
fault test crashes and restarts it, so it runs last.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import (
    assert_same_exports,
    bad_inputs_folder,
    oracle_exports,
    pipeline_command,
    project_env,
    read_exports,
    run_dbt,
    run_pipeline,
)
from tests.e2e.spark_servers import ThriftServer, accepts_connections, free_port


@pytest.fixture(scope="module")
def thrift_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThriftServer]:
    server = ThriftServer(state_dir=tmp_path_factory.mktemp("thrift_state"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bad_inputs_folder(tmp_path_factory.mktemp("thrift_events") / "events")


@pytest.fixture(scope="module")
def expected(events: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return oracle_exports([events], tmp_path_factory.mktemp("thrift_oracle"))


def test_no_server_fails_in_one_clear_line(tmp_path: Path) -> None:
    port = free_port()
    run = run_pipeline(tmp_path, tmp_path / "exports", "thrift", env={"THRIFT_PORT": str(port)})
    assert run.returncode == 1
    assert run.output.startswith(
        f"error: no Spark Thrift server at 127.0.0.1:{port} — start one with 'make thrift-up'"
    )
    assert len(run.output.strip().splitlines()) == 1, run.output
    assert not (tmp_path / "exports").exists()


def test_starting_twice_is_harmless(thrift_server: ThriftServer) -> None:
    pid = thrift_server.pid()
    assert f"already running (pid {pid})" in thrift_server.start()
    assert thrift_server.pid() == pid
    assert thrift_server.script("status").returncode == 0


def test_the_thrift_session_runs_with_ansi_on(thrift_server: ThriftServer) -> None:
    """The README's ANSI decision: the server pins ANSI on, and dbt-spark's
    `spark.sql.ansi.enabled=false` (sent with every thrift session) does not
    change it, so the SQL must be ANSI-safe."""
    shown = run_dbt(
        "show",
        "--inline",
        "set spark.sql.ansi.enabled",
        "--limit",
        "-1",
        "--output",
        "json",
        target="thrift",
        env=thrift_server.client_env(),
    ).check()
    rows = json.loads(shown.output[shown.output.index("{") :])["show"]
    assert rows == [{"key": "spark.sql.ansi.enabled", "value": "true"}]

    strict = run_dbt(
        "show",
        "--inline",
        "select cast('abc' as int) as n",
        target="thrift",
        env=thrift_server.client_env(),
    )
    assert strict.returncode != 0 and "CAST_INVALID_INPUT" in strict.output


def test_bad_inputs_through_thrift_equal_the_oracle(
    thrift_server: ThriftServer, events: Path, expected: dict[str, bytes], tmp_path: Path
) -> None:
    """Same exports, byte for byte, as SPEC's oracle, hence as the session method
    (tests/e2e/test_pipeline.py runs the same folder there)."""
    run = run_pipeline(events, tmp_path, "thrift", env=thrift_server.client_env())
    assert run.returncode == 0, f"{run.output[-6000:]}\n{thrift_server.log_tail()}"
    assert_same_exports(read_exports(tmp_path), expected)


def run_and_crash_server_when(
    server: ThriftServer, events: Path, export_dir: Path, started_model: str
) -> tuple[int, str]:
    """Run the pipeline; when dbt reports `started_model` started, SIGKILL the server."""
    env = project_env(
        **server.client_env(), THRIFT_CONNECT_RETRIES="1", THRIFT_CONNECT_TIMEOUT="1"
    )
    process = subprocess.Popen(
        pipeline_command(events, export_dir, "thrift"),
        cwd=env["WEB_EVENTS_HOME"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    crashed = False
    try:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if not crashed and "START sql" in line and f"web_events.{started_model} " in line:
                time.sleep(1)  # into the model's statements
                server.crash()
                crashed = True
        returncode = process.wait(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert crashed, "the model never started:\n" + "".join(output)[-4000:]
    return returncode, "".join(output)


def test_a_server_killed_mid_build_then_restarted_gives_clean_exports(
    thrift_server: ThriftServer, events: Path, expected: dict[str, bytes], tmp_path: Path
) -> None:
    returncode, output = run_and_crash_server_when(
        thrift_server, events, tmp_path, "user_activity"
    )
    assert returncode == 1, output[-4000:]
    assert "error: dbt build failed" in output
    assert not accepts_connections(thrift_server.port)

    thrift_server.start()
    run = run_pipeline(events, tmp_path, "thrift", env=thrift_server.client_env())
    assert run.returncode == 0, f"{run.output[-6000:]}\n{thrift_server.log_tail()}"
    assert_same_exports(read_exports(tmp_path), expected)
