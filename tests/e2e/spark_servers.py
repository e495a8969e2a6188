"""Long-running Spark processes for the end-to-end tests.

- `ThriftServer` drives scripts/thrift-server.sh, the script `make thrift-up`
  and docker-compose run, so the tests exercise exactly what users start.
- `StandaloneCluster` is a standalone master and one worker from the pyspark
  wheel (`spark-class ...deploy.master.Master` / `...deploy.worker.Worker`).

Everything binds 127.0.0.1 on free ports, keeps its files in a folder the test
owns, and is stopped by the fixture that started it (in a `finally`), by process
group, so no JVM outlives the test session.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pyspark

from tests.e2e.harness import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "thrift-server.sh"
SPARK_HOME = Path(pyspark.__file__).resolve().parent
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=2):
            return True
    except OSError:
        return False


def base_env() -> dict[str, str]:
    """The caller's environment without THRIFT_* settings, so a user's shell cannot
    point a test at their own server, metastore or port."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("THRIFT_")}
    return {**env, "SPARK_HOME": str(SPARK_HOME), "SPARK_LOCAL_IP": LOOPBACK}


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal the process group `pid` leads (it was started in its own session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (dead, not yet reaped) counts as gone
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[-1].startswith("Z"))


@dataclass
class ThriftServer:
    """A Thrift server of its own (state folder, port) via scripts/thrift-server.sh."""

    state_dir: Path
    port: int = field(default_factory=free_port)
    master: str = "local[2]"
    spark_submit_options: tuple[str, ...] = ()
    driver_memory: str = "1g"
    # `run` (the foreground mode docker-compose uses) instead of `start`
    foreground: bool = False
    process: subprocess.Popen[bytes] | None = None

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "thrift-server.pid"

    @property
    def warehouse_dir(self) -> Path:
        return self.state_dir / "warehouse"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "thrift-server.log"

    def script_env(self) -> dict[str, str]:
        return {
            **base_env(),
            "THRIFT_BIND_HOST": LOOPBACK,
            "THRIFT_PORT": str(self.port),
            "THRIFT_STATE_DIR": str(self.state_dir),
            "THRIFT_MASTER": self.master,
            "THRIFT_DRIVER_MEMORY": self.driver_memory,
            "THRIFT_START_TIMEOUT": "300",
        }

    def client_env(self) -> dict[str, str]:
        """What `make run TARGET=thrift` needs to reach this server."""
        return {"THRIFT_HOST": LOOPBACK, "THRIFT_PORT": str(self.port)}

    def script(self, action: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), action, *args],
            env=self.script_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=400,
            check=False,
        )

    def start(self) -> str:
        if self.foreground:
            return self._run_in_foreground()
        result = self.script("start", *self.spark_submit_options)
        assert result.returncode == 0, f"Thrift server did not start:\n{result.stdout}"
        return result.stdout

    def _run_in_foreground(self, timeout: float = 300) -> str:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                [str(SCRIPT), "run", *self.spark_submit_options],
                env=self.script_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"Thrift server exited:\n{self.log_tail()}"
            if accepts_connections(self.port):
                return self.log_file.read_text(errors="replace")
            time.sleep(1)
        self.stop()
        raise AssertionError(f"no Thrift server on port {self.port}:\n{self.log_tail()}")

    def pid(self) -> int | None:
        if self.foreground:
            return self.process.pid if self.process else None
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def crash(self) -> None:
        """SIGKILL, as an out-of-memory kill or a lost machine would: no shutdown hooks."""
        pid = self.pid()
        assert pid is not None, "no pid file: the server was not started"
        kill_group(pid)
        deadline = time.monotonic() + 30
        while is_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not is_alive(pid), f"pid {pid} survived SIGKILL"

    def stop(self) -> None:
        """Stop through the script (or as `docker stop` would, in the foreground
        mode); if that failed, kill the group anyway."""
        pid = self.pid()
        if self.foreground and self.process is not None:
            kill_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                kill_group(self.process.pid)
                self.process.wait(timeout=30)
            return
        self.script("stop")
        if pid is not None and is_alive(pid):
            kill_group(pid)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_file.exists():
            return "(no log)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class StandaloneCluster:
    """A standalone master and one worker, from the pyspark wheel."""

    work_dir: Path
    worker_cores: int = 2
    worker_memory: str = "2g"
    master_port: int = field(default_factory=free_port)
    master_ui_port: int = field(default_factory=free_port)
    worker_ui_port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"spark://{LOOPBACK}:{self.master_port}"

    def _spawn(self, name: str, *args: str) -> None:
        log = (self.work_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [str(SPARK_HOME / "bin" / "spark-class"), *args],
            cwd=self.work_dir,
            env={**base_env(), "SPARK_WORKER_DIR": str(self.work_dir / "worker")},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes.append(process)

    def start(self, timeout: float = 180) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._spawn(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            LOOPBACK,
            "--port",
            str(self.master_port),
            "--webui-port",
            str(self.master_ui_port),
        )
        self._spawn(
            "worker",
            "org.apache.spark.deploy.worker.Worker",
            "--host",
            LOOPBACK,
            "--cores",
            str(self.worker_cores),
            "--memory",
            self.worker_memory,
            "--webui-port",
            str(self.worker_ui_port),
            "--work-dir",
            str(self.work_dir / "worker"),
            self.url,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [p.args for p in self.processes if p.poll() is not None]
            assert not dead, f"a cluster process exited: {dead}\n{self.logs()}"
            if self.alive_workers() >= 1:
                return
            time.sleep(1)
        raise AssertionError(f"no worker registered within {timeout}s\n{self.logs()}")

    def alive_workers(self) -> int:
        try:
            url = f"http://{LOOPBACK}:{self.master_ui_port}/json/"
            with urllib.request.urlopen(url, timeout=5) as response:
                return int(json.load(response).get("aliveworkers", 0))
        except (OSError, ValueError):
            return 0

    def logs(self, lines: int = 30) -> str:
        return "\n".join(
            f"--- {log.name} ---\n"
            + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            for log in sorted(self.work_dir.glob("*.log"))
        )

    def stop(self) -> None:
        """Worker first (it takes its executors down), then the master."""
        for process in reversed(self.processes):
            if process.poll() is None:
                kill_group(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    kill_group(process.pid)
                    process.wait(timeout=30)
            # executors the worker launched share its process group
            kill_group(process.pid)
