"""The Spark driver's JVM class archive (scripts/driver_jvm.py): written once, kept only whole."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts import driver_jvm


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return tmp_path / "state" / "spark-driver-classes.jsa"


def test_without_an_archive_the_run_asks_the_jvm_to_write_one(archive: Path) -> None:
    options, pending = driver_jvm.java_options(archive)
    assert pending == archive.with_suffix(".jsa.part")
    assert f"-XX:ArchiveClassesAtExit={pending}" in options
    assert driver_jvm.class_archive_options(archive) is None


def test_with_an_archive_the_run_maps_it(archive: Path) -> None:
    archive.parent.mkdir()
    archive.write_bytes(b"archive")
    options, pending = driver_jvm.java_options(archive)
    assert pending is None
    assert options.startswith(f"-XX:SharedArchiveFile={archive} ")
    assert options == driver_jvm.class_archive_options(archive)


def test_a_successful_run_keeps_the_archive_and_a_failed_one_drops_it(archive: Path) -> None:
    _, pending = driver_jvm.java_options(archive)
    assert pending is not None
    pending.write_bytes(b"partial")
    driver_jvm.finish_class_archive(archive, pending, succeeded=False)
    assert not pending.exists() and not archive.exists()

    pending.write_bytes(b"whole")
    driver_jvm.finish_class_archive(archive, pending, succeeded=True)
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
    _, pending = driver_jvm.java_options(archive)
    assert pending is not None
    # a process started with the same option stands for the JVM still writing
    marker = f"-XX:ArchiveClassesAtExit={pending}"
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker])
    try:
        wait_until_listed(writer.pid, marker)
        pending.write_bytes(b"half written")
        driver_jvm.finish_class_archive(archive, pending, succeeded=True, timeout=1.0)
        assert not archive.exists()
        assert pending.exists()
    finally:
        writer.kill()
        writer.wait()
    driver_jvm.finish_class_archive(archive, pending, succeeded=True, timeout=5.0)
    assert archive.read_bytes() == b"half written"
