"""JVM options for the Spark driver that dbt starts (the `local` target): a class archive.

A class-data-sharing archive holds the classes the driver loads while dbt
starts Spark. The first run asks its JVM to write one as it exits; later runs
map it instead of loading and verifying about 15,000 classes from the jars (a
bare session start and first metastore call: 28-32 s -> 14-17 s on a 2-core VM
in a slow period, 18 s -> 13 s in a quiet one). A JVM that does not match the
archive (another Java or Spark) ignores it. scripts/pipeline.py keeps the
archive in its run folder (`.run/spark-driver-classes.jsa`).

The driver's JVM outlives dbt's Python process by the seconds it takes to
write the archive, so the archive is kept only once that JVM has ended.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

QUIET_CLASS_SHARING = "-Xlog:cds=off -Xlog:cds+dynamic=off"
# how long to wait for the driver's JVM to finish writing as it exits
JVM_EXIT_TIMEOUT = 120.0


def class_archive_options(archive: Path) -> str | None:
    """JVM options that map the class archive, once a run has written it."""
    if archive.exists():
        return f"-XX:SharedArchiveFile={archive} {QUIET_CLASS_SHARING}"
    return None


def java_options(archive: Path) -> tuple[str, Path | None]:
    """JVM options for the Spark driver, and the archive it writes (if any): map the
    archive when there is one, otherwise write it (`<archive>.part` until kept)."""
    mapping = class_archive_options(archive)
    if mapping is not None:
        return mapping, None
    if not Path("/proc").is_dir():  # finish_class_archive needs to see the JVM
        return "", None
    archive.parent.mkdir(parents=True, exist_ok=True)
    pending = archive.with_suffix(".jsa.part")
    return f"-XX:ArchiveClassesAtExit={pending} {QUIET_CLASS_SHARING}", pending


def wait_for_jvm_exit(marker: str, timeout: float = JVM_EXIT_TIMEOUT) -> bool:
    """Wait until no process started with `marker` in its command line is left.

    False if one still runs after `timeout` seconds.
    """
    needle = marker.encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        writers = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if needle in cmdline.read_bytes():
                    writers.append(cmdline)
            except OSError:
                continue  # the process ended while we looked
        if not writers:
            return True
        time.sleep(0.5)
    return False


def finish_class_archive(
    archive: Path, pending: Path, succeeded: bool, timeout: float = JVM_EXIT_TIMEOUT
) -> None:
    """Keep the archive the driver's JVM wrote as it exited, once it is whole."""
    if not wait_for_jvm_exit(f"-XX:ArchiveClassesAtExit={pending}", timeout):
        return  # still writing: leave it, a later run writes a new one
    if succeeded and pending.exists():
        os.replace(pending, archive)
    else:
        pending.unlink(missing_ok=True)
