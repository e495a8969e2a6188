"""The JVM class archive of scripts/pipeline.py: written once, kept only whole."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts import pipeline


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state" / "spark-driver-classes.jsa"
    monkeypatch.setattr(pipeline, "STATE_DIR", path.parent)
    monkeypatch.setattr(pipeline, "CLASS_ARCHIVE", path)
    return path


def test_without_an_archive_the_run_asks_the_jvm_to_write_one(archive: Path) -> None:
    options, pending = pipeline.driver_java_options()
    assert pending == archive.with_suffix(".jsa.part")
    assert f"-XX:ArchiveClassesAtExit={pending}" in options
    assert pipeline.class_archive_options() is None


def test_with_an_archive_the_run_maps_it(archive: Path) -> None:
    archive.parent.mkdir()
    archive.write_bytes(b"archive")
    options, pending = pipeline.driver_java_options()
    assert pending is None
    assert options.startswith(f"-XX:SharedArchiveFile={archive} ")
    assert options == pipeline.class_archive_options()


def test_a_successful_run_keeps_the_archive_and_a_failed_one_drops_it(archive: Path) -> None:
    _, pending = pipeline.driver_java_options()
    assert pending is not None
    pending.write_bytes(b"partial")
    pipeline.finish_class_archive(pending, succeeded=False)
    assert not pending.exists() and not archive.exists()

    pending.write_bytes(b"whole")
    pipeline.finish_class_archive(pending, succeeded=True)
    assert not pending.exists()
    assert archive.read_bytes() == b"whole"


def wait_until_listed(pid: int, marker: str, timeout: float = 10.0) -> None:
    """Wait until /proc shows the process's command line with `marker`.

    Right after Popen returns, a busy machine can still show the new process
    with an empty command line for a few milliseconds (it is mid-exec), and
    then finish_class_archive rightly sees no writer.
    """
    deadline = time.monotonic() + timeout
    while marker.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes():
        assert time.monotonic() < deadline, f"process {pid} never showed {marker} in /proc"
        time.sleep(0.01)


def test_the_archive_is_kept_only_after_the_jvm_writing_it_has_ended(archive: Path) -> None:
    _, pending = pipeline.driver_java_options()
    assert pending is not None
    # a process started with the same option stands for the JVM still writing
    marker = f"-XX:ArchiveClassesAtExit={pending}"
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker])
    try:
        wait_until_listed(writer.pid, marker)
        pending.write_bytes(b"half written")
        pipeline.finish_class_archive(pending, succeeded=True, timeout=1.0)
        assert not archive.exists()
        assert pending.exists()
    finally:
        writer.kill()
        writer.wait()
    pipeline.finish_class_archive(pending, succeeded=True, timeout=5.0)
    assert archive.read_bytes() == b"half written"


def test_a_recorded_run_returns_once_the_jvm_has_written_the_recording(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = tmp_path / "run.jfr"
    monkeypatch.setenv("WEB_EVENTS_JFR", str(recording))
    marker = pipeline.flight_recording_option()
    jvms: list[subprocess.Popen[bytes]] = []

    def dbt_whose_jvm_outlives_it(command: list[str], **kwargs: object) -> object:
        # stands for the driver JVM: it writes the recording after dbt has returned
        write_later = f"import time; time.sleep(2); open({str(recording)!r}, 'wb').write(b'jfr')"
        jvms.append(subprocess.Popen([sys.executable, "-c", write_later, marker]))
        wait_until_listed(jvms[-1].pid, marker)
        env = kwargs["env"]
        assert isinstance(env, dict) and marker in env["WEB_EVENTS_DRIVER_JAVA_OPTIONS"]
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(pipeline.subprocess, "run", dbt_whose_jvm_outlives_it)
    try:
        dbt_vars = pipeline.build_vars("/events.json", tmp_path / "exports", tmp_path / "l.json")
        pipeline.dbt_build(dbt_vars, "local", [])
        assert recording.read_bytes() == b"jfr"
    finally:
        for jvm in jvms:
            jvm.kill()
            jvm.wait()
