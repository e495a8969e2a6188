"""Run the web-events pipeline the way `make run` does.

1. List the events path (a file, a folder or a glob) and fingerprint the files
   that are new or changed since the last run that finished
   (scripts/file_listing.py), without starting Spark. A path that matches
   nothing, a hidden file named directly, or a file whose bytes already read
   changed fails here with one line; for a Thrift target, the server must
   accept connections.
2. When nothing changed since the last finished run (the same files, sizes
   and modification times, the same project files and settings, the exports
   in place), say so and stop: no Spark work.
3. Otherwise write the listing to `.run/<target>-<schema>/listing.json` (the
   dbt source `file_listing`) and run `dbt build` (models, seeds and data
   tests; unit tests belong to `make test`). The model `load_ledger` decides
   from the listing what is read; data tests read only what this run wrote
   (`data_tests_scope: new_rows`). The tables are rebuilt from every file
   (`--full-refresh`) on the first run, on a new events path, when asked, and
   after a run that did not finish.
4. Publish the exports: each mart's post-hook left sorted CSV parts under
   `<export_dir>/_parts/<table>/` (for user_activity one sub-folder per day;
   they are kept, and a run rewrites only the days that changed); they are
   joined in order under one header into a temporary file renamed to
   `<export_dir>/<table>.csv`, which replaces the old file atomically (a
   reader never sees half a file).
5. Record the run as finished (`.run/<target>-<schema>/finished.json`) and
   print a summary: events read, accepted, rejected per reason, sessions, days, files written.
"""

from __future__ import annotations

import argparse
import csv
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

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import file_listing
from scripts.file_listing import FinishedRun, ListingError

PROJECT_DIR = Path(__file__).resolve().parent.parent
EXPORT_TABLES = (
    "user_activity",
    "hrly_granular_activity",
    "rejected_events",
    "user_sessions",
    "daily_active_users",
)
PARTS_DIR = "_parts"
# The run command's own files (the run's file listing, the record of the last
# finished run, the JVM class archive); WEB_EVENTS_RUN_DIR moves them, e.g. to
# a folder a Thrift server elsewhere can read the listing from.
STATE_DIR = Path(os.environ.get("WEB_EVENTS_RUN_DIR") or PROJECT_DIR / ".run")
# A class-data-sharing archive of the classes the Spark driver loads when dbt
# starts it (the `local` target): the first run writes it when its JVM exits,
# later runs map it instead of loading and verifying ~15,000 classes from the
# jars (a bare session start and first metastore call: 28-32 s -> 14-17 s on
# this VM in a slow period, 18 s -> 13 s in a quiet one). A JVM that does not match the
# archive (another Java or Spark) ignores it.
CLASS_ARCHIVE = STATE_DIR / "spark-driver-classes.jsa"
QUIET_CLASS_SHARING = "-Xlog:cds=off -Xlog:cds+dynamic=off"
# how long to wait for the driver's JVM to finish writing at exit (class archive, recording)
JVM_EXIT_TIMEOUT = 120.0


class PipelineError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


@dataclass(frozen=True)
class Summary:
    accepted: int
    rejected_by_reason: dict[str, int]
    files: list[Path]
    sessions: int = 0
    days: int = 0

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    def counts(self) -> dict[str, object]:
        """What the record of a finished run keeps, to print again when nothing is new."""
        return {
            "accepted": self.accepted,
            "rejected_by_reason": self.rejected_by_reason,
            "sessions": self.sessions,
            "days": self.days,
        }

    @classmethod
    def from_counts(cls, counts: dict[str, object], files: list[Path]) -> Summary:
        reasons = dict(counts.get("rejected_by_reason") or {})  # type: ignore[call-overload]
        return cls(
            accepted=int(counts.get("accepted") or 0),  # type: ignore[call-overload]
            rejected_by_reason={str(reason): int(n) for reason, n in reasons.items()},
            files=files,
            sessions=int(counts.get("sessions") or 0),  # type: ignore[call-overload]
            days=int(counts.get("days") or 0),  # type: ignore[call-overload]
        )

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
        lines += [
            f"sessions:         {self.sessions}",
            f"days:             {self.days}",
            "files written:",
        ]
        lines += [f"  {path}" for path in self.files]
        return "\n".join(lines)


def is_uri(path: str) -> bool:
    """s3a://bucket/x, hdfs://nn/x: files the run command cannot list."""
    scheme, sep, _ = path.partition("://")
    return bool(sep) and scheme.isalnum() and scheme != "file"


def resolve_events_path(events: str) -> str:
    """The absolute events path, or PipelineError when it cannot be listed."""
    if not events.strip():
        raise PipelineError(
            "EVENTS is empty: name a JSON-lines file, a folder or a glob (make run EVENTS=...)"
        )
    if is_uri(events):
        raise PipelineError(
            f"events path '{events}': the run command lists local files only; "
            "copy the files to a local folder, or run dbt yourself"
        )
    local = events.removeprefix("file://")
    path = Path(local).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    return str(path)


def run_dir(target: str) -> Path:
    """Where the listing and the record of the last finished run of this target and schema live."""
    schema = os.environ.get("WEB_EVENTS_SCHEMA", "web_events")
    return STATE_DIR / f"{target}-{schema}"


UNFINISHED = "the last run did not finish, so its tables cannot be trusted"


def remove_uncommitted_writes(target: str) -> None:
    """Remove what a Spark driver killed while writing a table left in the table's
    folder (`_temporary/`, `.spark-staging-*`), before the rebuild that follows.

    For a table the kill left out of the catalog, that folder alone makes every
    later `create table` of the same name fail with LOCATION_ALREADY_EXISTS. Only
    for the `local` target, whose warehouse is the project's `spark-warehouse/`
    and whose driver lives only as long as a run (scripts/thrift-server.sh does
    the same for its server's warehouse when it starts).
    """
    if thrift_address(target) is not None:
        return
    schema = os.environ.get("WEB_EVENTS_SCHEMA", "web_events")
    for table in (PROJECT_DIR / "spark-warehouse" / f"{schema}.db").glob("*"):
        for leftover in [*table.glob("_temporary"), *table.glob(".spark-staging-*")]:
            print(f"Removing an uncommitted write of the unfinished run: {leftover}", flush=True)
            shutil.rmtree(leftover, ignore_errors=True)


def full_refresh_reason(events_path: str, folder: Path, finished: FinishedRun | None) -> str | None:
    """Why this run must rebuild everything, or None when it can be incremental."""
    if finished is None:
        if (folder / file_listing.LISTING).exists():
            return UNFINISHED
        return "no earlier run recorded for this target and schema"
    if finished.events_path != events_path:
        return f"the events path changed (was {finished.events_path})"
    return None


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


def export_parts(export_dir: Path) -> list[str]:
    """The CSV part files under `<export_dir>/_parts/`, relative to it."""
    parts_dir = export_dir / PARTS_DIR
    return sorted(
        str(path.relative_to(parts_dir))
        for path in parts_dir.glob("*/**/*")
        if path.is_file() and (path.name.startswith("part-") or path.name == "_SUCCESS")
    )


def exports_incomplete(export_dir: Path, finished: FinishedRun | None) -> bool:
    """True when a CSV, or a part file the last finished run left, is missing.

    The day-partitioned export keeps its parts between runs and rewrites only
    the days that changed, so without them it must write every day again.
    """
    if finished is None:
        return True
    if any(not path.exists() for path in exported_files(export_dir)):
        return True
    parts_dir = export_dir / PARTS_DIR
    return any(not (parts_dir / part).exists() for part in finished.export_parts)


def build_vars(events_path: str, export_dir: Path, listing: Path) -> dict[str, object]:
    """The vars every run passes to dbt (more are added only when needed: a change
    of vars makes dbt parse the whole project again, which takes seconds)."""
    return {
        "events_path": events_path,
        "export_dir": str(export_dir),
        "file_listing_path": str(listing),
        # data tests read only the rows this run wrote
        "data_tests_scope": "new_rows",
    }


def dbt_build(dbt_vars: dict[str, object], target: str, extra: Sequence[str]) -> None:
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


def exported_files(export_dir: Path) -> list[Path]:
    return [export_dir / f"{table}.csv" for table in EXPORT_TABLES]


def data_rows(path: Path) -> int:
    """The rows of an exported CSV file, its header left out."""
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def summarise(files: list[Path]) -> Summary:
    by_name = {path.stem: path for path in files}
    with by_name["rejected_events"].open(encoding="utf-8", newline="") as handle:
        reasons = Counter(row["reason"] for row in csv.DictReader(handle))
    return Summary(
        accepted=data_rows(by_name["user_activity"]),
        rejected_by_reason=dict(reasons),
        files=files,
        sessions=data_rows(by_name["user_sessions"]),
        days=data_rows(by_name["daily_active_users"]),
    )


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def report_moves_and_removals(files: list[file_listing.ListedFile], known: FinishedRun) -> None:
    """Name the files read before that are no longer listed: moved (the same
    content under a new path, which load_ledger does not read again) or gone."""
    listed = {file.file_path for file in files}
    new_by_content = {
        (file.fingerprint, file.size_bytes): file.file_path
        for file in files
        if file.file_path not in known.files
    }
    moved, removed = [], []
    for path, file in known.files.items():
        if path in listed:
            continue
        target = new_by_content.get((file.fingerprint, file.size_bytes))
        if target is None:
            removed.append(path)
        else:
            moved.append(f"{path} -> {target}")
    if moved:
        print(f"{len(moved)} file(s) moved or renamed, not read again: {', '.join(moved)}")
    if removed:
        warn(
            f"{len(removed)} file(s) read before are gone; their events stay "
            f"(the load_ledger table records them as removed): {', '.join(removed)}"
        )


def run(args: argparse.Namespace) -> None:
    events_path = resolve_events_path(args.events)
    export_dir = Path(args.export_dir).expanduser().resolve()
    try:
        listing = file_listing.find_files(events_path)
    except ListingError as error:
        raise PipelineError(str(error)) from None
    if listing.hidden:
        warn(
            f"{len(listing.hidden)} hidden file(s) skipped (names starting with '_' or '.' "
            f"are never read): {', '.join(listing.hidden)}"
        )
    check_thrift_server(args.target)
    folder = run_dir(args.target)
    finished = file_listing.read_finished(folder)
    dbt_args = list(args.dbt_args)
    dbt_vars = build_vars(events_path, export_dir, folder / file_listing.LISTING)
    schema = os.environ.get("WEB_EVENTS_SCHEMA", "web_events")
    # what the tables are built from (a rebuild asked for once is not a setting)
    settings = [arg for arg in dbt_args if arg != "--full-refresh"]
    project = file_listing.project_fingerprint(
        PROJECT_DIR, {"target": args.target, "schema": schema, "vars": dbt_vars, "args": settings}
    )
    reason = (
        "asked for" if args.full_refresh else full_refresh_reason(events_path, folder, finished)
    )
    if "--full-refresh" in dbt_args:
        reason = reason or "asked for"
    stale_exports = exports_incomplete(export_dir, finished)
    if (
        reason is None
        and finished is not None
        and not stale_exports
        and finished.project_fingerprint == project
        and finished.export_dir == str(export_dir)
        and file_listing.is_unchanged(listing.files, finished)
    ):
        print(
            f"Nothing new since run {finished.run_id}: no file added, grown, changed or "
            "removed, the project and its settings unchanged, the exports in place.",
            flush=True,
        )
        print(Summary.from_counts(finished.counts, exported_files(export_dir)).render())
        return
    known = finished if reason is None else None
    files = [
        file_listing.measure(path, known.files.get(path) if known else None)
        for path in listing.files
    ]
    changed = file_listing.changed_files(files, known)
    if changed:
        raise PipelineError(
            f"{len(changed)} file(s) already read changed (not only appended to): "
            f"{', '.join(changed)}. Restore them, or rebuild every table from the files "
            "as they are now with `make run FULL_REFRESH=1`"
        )
    if known is not None:
        report_moves_and_removals(files, known)
    if reason == UNFINISHED:
        remove_uncommitted_writes(args.target)
    if reason and "--full-refresh" not in dbt_args:
        print(f"Rebuilding every table (--full-refresh): {reason}.", flush=True)
        dbt_args.append("--full-refresh")
    if reason is None and (stale_exports or finished.export_dir != str(export_dir)):
        dbt_vars["export_all"] = True
    run_id = file_listing.new_run_id()
    file_listing.forget_finished(folder)
    file_listing.write_listing(folder, files, run_id, events_path)
    dbt_build(dbt_vars, args.target, dbt_args)
    written = publish(export_dir)
    summary = summarise(written)
    file_listing.record_finished(
        folder,
        FinishedRun(
            run_id=run_id,
            events_path=events_path,
            export_dir=str(export_dir),
            project_fingerprint=project,
            export_parts=export_parts(export_dir),
            files={},
            counts=summary.counts(),
        ),
    )
    print(summary.render())


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="build, test the data and export the CSVs")
    run_parser.add_argument(
        "--events",
        default="data/source_event_data.json",
        help="a JSON-lines file, a folder or a glob",
    )
    run_parser.add_argument("--export-dir", default="exports", help="folder for the CSV files")
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
