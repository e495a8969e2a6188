"""The whole pipeline through a real Spark Thrift server (dbt-spark's thrift method).

The server is started by scripts/thrift-server.sh (what `make thrift-up` and
docker-compose run) on a free port, with a state folder of this test session, so
it never meets a user's own server. One server serves the whole module; the
fault test crashes and restarts it, so it runs last.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbt.adapters.spark.connections import SparkCredentials
from pyhive import hive

from tests.e2e.harness import (
    assert_same_exports,
    bad_inputs_folder,
    oracle_exports,
    pipeline_command,
    project_env,
    read_exports,
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
    """The ANSI decision (docs/design.md), checked so that it cannot rot: dbt-spark sends
    `spark.sql.ansi.enabled=false` with every session it opens, the server ignores
    it and keeps the ANSI mode it was started with (on), so the SQL must be
    ANSI-safe. The session is opened exactly as dbt-spark's thrift method does."""
    credentials = SparkCredentials.from_dict(
        {
            "method": "thrift",
            "host": "127.0.0.1",
            "port": thrift_server.port,
            "user": "pytest",
            "schema": "web_events",
        }
    )
    assert credentials.server_side_parameters["spark.sql.ansi.enabled"] == "false"
    connection = hive.connect(
        host=credentials.host,
        port=credentials.port,
        username=credentials.user,
        configuration=credentials.server_side_parameters,
    )
    try:
        cursor = connection.cursor()
        cursor.execute("set spark.sql.ansi.enabled")
        assert cursor.fetchall() == [("spark.sql.ansi.enabled", "true")]
        cursor.execute("set spark.sql.session.timeZone")
        assert cursor.fetchall()[0][1] in {"UTC", "Etc/UTC"}
        with pytest.raises(hive.OperationalError, match="CAST_INVALID_INPUT"):
            cursor.execute("select cast('abc' as int)")
            cursor.fetchall()
    finally:
        connection.close()


def test_bad_inputs_through_thrift_equal_the_oracle(
    thrift_server: ThriftServer, events: Path, expected: dict[str, bytes], tmp_path: Path
) -> None:
    """Same exports, byte for byte, as SPEC's oracle, hence as the session method
    (tests/e2e/test_pipeline.py runs the same folder there)."""
    run = run_pipeline(events, tmp_path, "thrift", env=thrift_server.client_env())
    assert run.returncode == 0, f"{run.output[-6000:]}\n{thrift_server.log_tail()}"
    assert_same_exports(read_exports(tmp_path), expected)


def run_and_crash_server_mid_write(
    server: ThriftServer, events: Path, export_dir: Path, table: str
) -> tuple[int, str, bool]:
    """Run the pipeline and SIGKILL the server while it writes `table`: as soon as
    the write's uncommitted folder appears in the warehouse. Returns the run's exit
    code and output, and whether the write's leftovers outlived the server."""
    env = project_env(**server.client_env(), THRIFT_CONNECT_RETRIES="1", THRIFT_CONNECT_TIMEOUT="1")
    schema = env["WEB_EVENTS_SCHEMA"]
    uncommitted = server.warehouse_dir / f"{schema}.db" / table / "_temporary"
    # a full rebuild, so that staging writes every line (an incremental run with
    # no new file writes nothing to crash in)
    process = subprocess.Popen(
        pipeline_command(events, export_dir, "thrift", "--full-refresh"),
        cwd=env["WEB_EVENTS_HOME"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout or ()), daemon=True)
    reader.start()
    crashed = False
    try:
        deadline = time.monotonic() + 600
        while process.poll() is None and time.monotonic() < deadline:
            if not crashed and uncommitted.exists():
                server.crash()
                crashed = True
            time.sleep(0.05)
        returncode = process.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert crashed, f"{table} was never written:\n" + "".join(output)[-4000:]
    return returncode, "".join(output), uncommitted.exists()


def test_a_server_killed_mid_build_then_restarted_gives_clean_exports(
    thrift_server: ThriftServer, events: Path, expected: dict[str, bytes], tmp_path: Path
) -> None:
    """Killed while writing the first table: the run fails in one line, and after
    a restart the same run succeeds with the clean run's exports (the leftovers of
    the killed write would otherwise fail every later run: LOCATION_ALREADY_EXISTS)."""
    returncode, output, left_over = run_and_crash_server_mid_write(
        thrift_server, events, tmp_path, "stg_web_events"
    )
    assert returncode == 1, output[-4000:]
    assert "error: dbt build failed" in output
    assert not accepts_connections(thrift_server.port)
    assert left_over, "the crash left no uncommitted write: the test did not test it"

    assert "removing an uncommitted write" in thrift_server.start()
    run = run_pipeline(events, tmp_path, "thrift", env=thrift_server.client_env())
    assert run.returncode == 0, f"{run.output[-6000:]}\n{thrift_server.log_tail()}"
    assert_same_exports(read_exports(tmp_path), expected)
