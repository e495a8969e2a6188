"""Run the web-events pipeline the way `make run` does.

1. Check that the events path exists (a file, a folder or a glob), so a typo
   fails in a second with a clear message instead of after Spark has started;
   for a Thrift target, check that its server accepts connections.
2. `dbt build` (models, seeds and data tests; unit tests belong to `make test`)
   with `events_path` and `export_dir` as absolute paths, and
   `data_tests_scope: new_rows`: data tests read only the rows written since
   all the tests of their model last passed (macros/tests/data_test_scope.sql).
3. Publish the exports: each mart's post-hook left sorted CSV parts under
   `<export_dir>/_parts/<table>/` (for user_activity one sub-folder per day;
   they are kept, and a run rewrites only the days that changed); they are
   joined in order under one header into a temporary file renamed to
   `<export_dir>/<table>.csv`, which replaces the old file atomically (a
   reader never sees half a file).
4. Print a summary: events read, accepted, rejected per reason, files written.

The tables are incremental: a run stages only the files it has not seen. The
state belongs to one events path, so when the path differs from the last
successful run's (kept in `.run/<target>-<schema>.json`), or no run is recorded, the
run rebuilds every table (`--full-refresh`).
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import jinja2
import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
EXPORT_TABLES = ("user_activity", "hrly_granular_activity", "rejected_events")
PARTS_DIR = "_parts"
STATE_DIR = PROJECT_DIR / ".run"
# A class-data-sharing archive of the classes the Spark driver loads when dbt
# starts it (the `local` target): the first run writes it when its JVM exits,
# later runs map it instead of loading and verifying ~15,000 classes from the
# jars (a bare session start and first metastore call: 28-32 s -> 14-17 s on
# this VM in a slow period, 18 s -> 13 s in a quiet one). A JVM that does not match the
# archive (another Java or Spark) ignores it.
CLASS_ARCHIVE = STATE_DIR / "spark-driver-classes.jsa"
QUIET_CLASS_SHARING = "-Xlog:cds=off -Xlog:cds+dynamic=off"
GLOB_CHARS = set("*?[{")
# how long to wait for the driver's JVM to finish writing at exit (class archive, recording)
JVM_EXIT_TIMEOUT = 120.0


class PipelineError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


@dataclass(frozen=True)
class Summary:
    accepted: int
    rejected_by_reason: dict[str, int]
    files: list[Path]

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    def render(self) -> str:
        lines = [
            f"events read:      {self.accepted + self.rejected}",
            f"accepted:         {self.accepted}",
            f"rejected:         {self.rejected}",
        ]
        lines += [
            f"  {reason + ':':<17} {count}"
            for reason, count in sorted(self.rejected_by_reason.items())
        ]
        lines.append("files written:")
        lines += [f"  {path}" for path in self.files]
        return "\n".join(lines)


def is_uri(path: str) -> bool:
    """s3a://bucket/x, hdfs://nn/x: not checked locally (the server reads them)."""
    scheme, sep, _ = path.partition("://")
    return bool(sep) and scheme.isalnum() and scheme != "file"


def resolve_events_path(events: str) -> str:
    """The absolute events path, or PipelineError when nothing is there."""
    if is_uri(events):
        return events
    local = events.removeprefix("file://")
    path = Path(local).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    if GLOB_CHARS & set(local):
        if not glob.glob(str(path)):
            raise PipelineError(f"events path '{events}' matches no file (glob: {path})")
    elif not path.exists():
        raise PipelineError(f"events path '{events}' does not exist (looked for {path})")
    return str(path)


def state_file(target: str) -> Path:
    """Where the last successful run of this target and schema is recorded."""
    schema = os.environ.get("WEB_EVENTS_SCHEMA", "web_events")
    return STATE_DIR / f"{target}-{schema}.json"


def needs_full_refresh(events_path: str, target: str) -> str | None:
    """Why this run must rebuild everything, or None when it can be incremental."""
    try:
        previous = json.loads(state_file(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"no earlier run recorded for target '{target}'"
    if previous.get("events_path") != events_path:
        return f"the events path changed (was {previous.get('events_path')})"
    return None


def record_run(events_path: str, target: str) -> None:
    STATE_DIR.mkdir(exist_ok=True)
    state_file(target).write_text(json.dumps({"events_path": events_path}) + "\n", "utf-8")


def class_archive_options() -> str | None:
    """JVM options that map the class archive, once a run has written it."""
    if CLASS_ARCHIVE.exists():
        return f"-XX:SharedArchiveFile={CLASS_ARCHIVE} {QUIET_CLASS_SHARING}"
    return None


def driver_java_options() -> tuple[str, Path | None]:
    """JVM options for the Spark driver dbt starts, and the archive it writes (if any)."""
    mapping = class_archive_options()
    if mapping is not None:
        return mapping, None
    if not Path("/proc").is_dir():  # finish_class_archive needs to see the JVM
        return "", None
    STATE_DIR.mkdir(exist_ok=True)
    pending = CLASS_ARCHIVE.with_suffix(".jsa.part")
    return f"-XX:ArchiveClassesAtExit={pending} {QUIET_CLASS_SHARING}", pending


def flight_recording_option() -> str:
    """Java Flight Recorder for the driver when WEB_EVENTS_JFR names a file, for
    benchmarks/cpu_by_statement.py (which statements the CPU went to); else nothing."""
    recording = os.environ.get("WEB_EVENTS_JFR", "").strip()
    if not recording:
        return ""
    path = Path(recording).expanduser().resolve()
    if "," in str(path) or " " in str(path):
        raise PipelineError(f"WEB_EVENTS_JFR: the path may not hold commas or spaces: {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"-XX:StartFlightRecording=filename={path},settings=profile"


def wait_for_jvm_exit(marker: str, timeout: float = JVM_EXIT_TIMEOUT) -> bool:
    """Wait until no process started with `marker` in its command line is left.

    The driver's JVM outlives dbt's Python process by the seconds it takes to
    write what it writes as it exits (the class archive, a flight recording).
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


def finish_class_archive(pending: Path, succeeded: bool, timeout: float = JVM_EXIT_TIMEOUT) -> None:
    """Keep the archive the driver's JVM wrote as it exited, once it is whole."""
    if not wait_for_jvm_exit(f"-XX:ArchiveClassesAtExit={pending}", timeout):
        return  # still writing: leave it, a later run writes a new one
    if succeeded and pending.exists():
        os.replace(pending, CLASS_ARCHIVE)
    else:
        pending.unlink(missing_ok=True)


def thrift_address(target: str) -> tuple[str, int] | None:
    """(host, port) of `target` in profiles/profiles.yml if it uses the thrift method.

    Rendered from the profile itself (its env_var() defaults), so this check and
    dbt always agree on where the server is.
    """
    profiles = yaml.safe_load((PROJECT_DIR / "profiles" / "profiles.yml").read_text("utf-8"))
    output = profiles.get("web_events", {}).get("outputs", {}).get(target) or {}
    if output.get("method") != "thrift":
        return None
    env = jinja2.Environment()
    env.filters["as_number"] = int

    def render(value: object) -> str:
        template = env.from_string(str(value))
        return template.render(env_var=lambda name, default="": os.environ.get(name, default))

    return render(output.get("host", "")), int(render(output.get("port", 443)))


def check_thrift_server(target: str) -> None:
    """One clear line instead of dbt's retries and stack trace when nothing listens."""
    address = thrift_address(target)
    if address is None:
        return
    host, port = address
    try:
        with socket.create_connection((host, port), timeout=5):
            pass
    except OSError as error:
        raise PipelineError(
            f"no Spark Thrift server at {host}:{port} — start one with 'make thrift-up' "
            f"(or set THRIFT_HOST/THRIFT_PORT) [{error.strerror or error}]"
        ) from None


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def exports_missing(export_dir: Path) -> bool:
    """True when a table's parts are not all there (a first run, or the folder was removed).

    The day-partitioned export keeps its parts between runs and rewrites only
    the days that changed, so without them it must write every day again.
    """
    return any(not (export_dir / PARTS_DIR / t / "_SUCCESS").exists() for t in EXPORT_TABLES)


def dbt_build(events_path: str, export_dir: Path, target: str, extra: Sequence[str]) -> None:
    # data tests read only the rows no passing test run has read yet
    dbt_vars = {
        "events_path": events_path,
        "export_dir": str(export_dir),
        "data_tests_scope": "new_rows",
        # only when it matters: a change of vars makes dbt parse the whole
        # project again (seconds), and a full refresh exports everything anyway
        "export_all": "--full-refresh" not in extra and exports_missing(export_dir),
    }
    command = [
        dbt_executable(),
        "build",
        "--profiles-dir",
        str(PROJECT_DIR / "profiles"),
        "--project-dir",
        str(PROJECT_DIR),
        "--target",
        target,
        "--vars",
        json.dumps(dbt_vars),
        "--exclude",
        "test_type:unit",
        *extra,
    ]
    java_options, archive_written = driver_java_options()
    recording = flight_recording_option()
    java_options = " ".join(filter(None, [java_options, recording]))
    env = {
        **os.environ,
        "WEB_EVENTS_HOME": str(PROJECT_DIR),
        "WEB_EVENTS_DRIVER_JAVA_OPTIONS": java_options,
    }
    result = subprocess.run(command, cwd=PROJECT_DIR, env=env, check=False)
    if archive_written is not None:
        finish_class_archive(archive_written, succeeded=result.returncode == 0)
    if recording and not wait_for_jvm_exit(recording):
        print(
            f"warning: the Spark driver's JVM still runs {JVM_EXIT_TIMEOUT:.0f} s after dbt "
            "ended; the recording in WEB_EVENTS_JFR may not be whole yet",
            file=sys.stderr,
        )
    if result.returncode != 0:
        raise PipelineError(
            f"dbt build failed (exit {result.returncode}); its log is above and in "
            f"{PROJECT_DIR / 'logs' / 'dbt.log'}"
        )


def join_parts(parts: list[Path], out: BinaryIO) -> None:
    """Write the sorted parts one after another under the first part's header."""
    header_written = False
    for part in parts:
        with part.open("rb") as handle:
            header = handle.readline()
            if not header:
                continue  # an empty range writes an empty part
            if not header_written:
                out.write(header)
                header_written = True
            shutil.copyfileobj(handle, out, 1 << 20)
    if not header_written:
        raise PipelineError(f"the CSV parts in {parts[0].parent} hold no header")


def publish(export_dir: Path) -> list[Path]:
    """Join each table's CSV parts into <export_dir>/<table>.csv, replaced atomically.

    A day-partitioned export (sub-folders `event_date=yyyy-MM-dd/`) has a
    header-only part at its root, then the days in date order. The parts stay:
    the next run rewrites only the days that changed (the other exports are
    rewritten whole).
    """
    written = []
    for table in EXPORT_TABLES:
        parts_dir = export_dir / PARTS_DIR / table
        days = sorted(parts_dir.glob("*=*/part-*.csv"))
        parts = sorted(parts_dir.glob("part-*.csv")) + days
        if not parts or not (parts_dir / "_SUCCESS").exists():
            raise PipelineError(
                f"no complete CSV export of {table} in {parts_dir}: was the model built?"
            )
        final = export_dir / f"{table}.csv"
        with tempfile.NamedTemporaryFile(
            dir=export_dir, prefix=f".{table}.", suffix=".tmp", delete=False
        ) as temp:
            try:
                join_parts(parts, temp)
            except BaseException:
                Path(temp.name).unlink(missing_ok=True)
                raise
        os.replace(temp.name, final)
        written.append(final)
    return written


def summarise(files: list[Path]) -> Summary:
    by_name = {path.stem: path for path in files}
    with by_name["user_activity"].open(encoding="utf-8", newline="") as handle:
        accepted = sum(1 for _ in csv.reader(handle)) - 1
    with by_name["rejected_events"].open(encoding="utf-8", newline="") as handle:
        reasons = Counter(row["reason"] for row in csv.DictReader(handle))
    return Summary(accepted=accepted, rejected_by_reason=dict(reasons), files=files)


def run(args: argparse.Namespace) -> None:
    events_path = resolve_events_path(args.events)
    export_dir = Path(args.export_dir).expanduser().resolve()
    check_thrift_server(args.target)
    dbt_args = list(args.dbt_args)
    reason = "asked for" if args.full_refresh else needs_full_refresh(events_path, args.target)
    if reason and "--full-refresh" not in dbt_args:
        print(f"Rebuilding every table (--full-refresh): {reason}.", flush=True)
        dbt_args.append("--full-refresh")
    dbt_build(events_path, export_dir, args.target, dbt_args)
    files = publish(export_dir)
    record_run(events_path, args.target)
    print(summarise(files).render())


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="build, test the data and export the CSVs")
    run_parser.add_argument(
        "--events",
        default="data/source_event_data.json",
        help="a JSON-lines file, a folder or a glob",
    )
    run_parser.add_argument(
        "--export-dir", default="exports", help="folder for the three CSV files"
    )
    run_parser.add_argument("--target", default="local", help="dbt target (local, thrift)")
    run_parser.add_argument(
        "--full-refresh", action="store_true", help="rebuild every table from all files"
    )
    run_parser.add_argument("dbt_args", nargs="*", help="more dbt build arguments, after --")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        run(args)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
