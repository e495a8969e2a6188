"""Run the web-events pipeline the way `make run` does.

1. List the events path (a file, a folder or a glob) and fingerprint the files
   that are new or changed since the last run that finished
   (scripts/file_listing.py), without starting Spark. A path that matches
   nothing, a hidden file named directly, or a file whose bytes already read
   changed fails here with one line; so do an empty events path, an unknown
   target, VARS that are not a mapping, and an export folder that cannot be
   created or written. For a Thrift target, the server must accept
   connections. Then the run takes its lock (run_lock): a second run on the
   same project and schema stops here, in one line.
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
   reader never sees half a file; a full disk leaves the old files).
5. Record the run as finished (`.run/<target>-<schema>/finished.json`) and
   print a summary: events read, accepted, rejected per reason, sessions, days, files written.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import errno
import fcntl
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import jinja2
import yaml

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import driver_jvm, file_listing
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
# The Spark driver's class archive (scripts/driver_jvm.py): a faster JVM start.
CLASS_ARCHIVE = STATE_DIR / "spark-driver-classes.jsa"


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


# in the run folder: the manifest of the last finished run (dbt's --state)
STATE = "state"


def lock_file(target: str) -> Path:
    """The file a run holds locked while it runs.

    A Thrift target: one per target and schema (the server serves many
    sessions, but two runs would re-point each other's raw table). The `local`
    target: one for the project, because the Spark driver each run starts
    opens the project's embedded Derby metastore (metastore_db/), which one
    process at a time can open, whatever the schema.
    """
    if thrift_address(target) is None:
        return STATE_DIR / "local.lock"
    return run_dir(target) / "run.lock"


@contextlib.contextmanager
def run_lock(target: str) -> Iterator[int]:
    """Hold the run's lock (an flock) for the `with` block; yields its file descriptor.

    The kernel releases an flock when the last process holding the file open
    ends, so a killed run never leaves it stuck. dbt inherits the descriptor
    (dbt_build), so a run command killed while dbt still works keeps the lock
    until dbt ends too.
    """
    path = lock_file(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            scope = (
                "in this project (the local target's metastore takes one run at a time)"
                if path.name == "local.lock"
                else f"on target {target}, schema {path.parent.name.removeprefix(target + '-')}"
            )
            raise PipelineError(
                f"another run is under way {scope} (pid {holder}, lock {path}): "
                "wait for it to end, then run again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield fd
    finally:
        os.close(fd)


def check_export_dir(export_dir: Path) -> None:
    """Create the export folder and write (then remove) a file in it, so a folder
    that cannot be written stops the run before any Spark work, in one line."""
    try:
        export_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PipelineError(
            f"export folder '{export_dir}' cannot be created: {error.strerror or error} "
            "(make run EXPORT_DIR=...)"
        ) from None
    for folder in (export_dir, export_dir / PARTS_DIR):
        if not folder.exists() and folder != export_dir:
            continue
        try:
            fd, probe = create_new_file(folder, ".write-check")
            os.close(fd)
            probe.unlink()
        except OSError as error:
            raise PipelineError(
                f"export folder '{folder}' cannot be written: {error.strerror or error} "
                "(make run EXPORT_DIR=...)"
            ) from None


def create_new_file(folder: Path, prefix: str) -> tuple[int, Path]:
    """A new, hidden, uniquely named file in `folder`, open for writing.

    Its mode comes from the umask (0644 with the usual 022), as for any file a
    program creates: tempfile's files are 0600, which would keep the published
    CSVs from the teammates and tools that read them.
    """
    while True:
        path = folder / f"{prefix}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), path
        except FileExistsError:
            continue


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


def profile_output(target: str) -> dict[str, object]:
    """The output `target` of profiles/profiles.yml, or PipelineError naming the ones there are."""
    profiles = yaml.safe_load((PROJECT_DIR / "profiles" / "profiles.yml").read_text("utf-8"))
    outputs = profiles.get("web_events", {}).get("outputs", {})
    if target not in outputs:
        raise PipelineError(
            f"unknown target '{target}': profiles/profiles.yml defines {', '.join(outputs)} "
            "(make run TARGET=...)"
        )
    return outputs[target] or {}


def thrift_address(target: str) -> tuple[str, int] | None:
    """(host, port) of `target` in profiles/profiles.yml if it uses the thrift method.

    Rendered from the profile itself (its env_var() defaults), so this check and
    dbt always agree on where the server is.
    """
    output = profile_output(target)
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


def unchanged_seeds_left_out(folder: Path) -> list[str]:
    """dbt arguments that leave out the seeds unchanged since the last finished run.

    A seed is reloaded (a drop, a create and an insert, then its tests) on
    every `dbt build`, although its CSV file rarely changes. After a run that
    finished, dbt's state comparison with that run's manifest tells which seeds
    changed (`state:modified`: the file or its settings); the others keep the
    table that run loaded. Tests with another parent as well (user_activity's
    `relationships` test of the catalogue) still run: `cautious` leaves out
    only the tests of the seeds left out.
    """
    if not (folder / STATE / "manifest.json").is_file():
        return []
    return [
        "--state",
        str(folder / STATE),
        "--indirect-selection",
        "cautious",
        "--exclude",
        "resource_type:seed,state:unmodified",
    ]


def keep_manifest_as_state(folder: Path) -> None:
    """The finished run's manifest: what the next run compares its seeds with."""
    (folder / STATE).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_DIR / "target" / "manifest.json", folder / STATE / "manifest.json")


def parse_user_vars(text: str, origin: str) -> dict[str, object]:
    """More dbt vars given to the run command (VARS='{...}', --vars, or `--vars` after `--`),
    as YAML or JSON (what dbt's --vars takes); those the command sets itself are refused."""
    if not text.strip():
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise PipelineError(f"{origin} is not valid YAML or JSON{where}: {text}") from None
    if not isinstance(value, dict):
        raise PipelineError(f'{origin} must be a mapping such as \'{{"name": "value"}}\': {text}')
    owned = sorted(set(map(str, value)) & COMMAND_VARS.keys())
    if owned:
        raise PipelineError(
            f"{origin} may not set {', '.join(owned)}: the run command sets "
            + ", ".join(f"{name} ({COMMAND_VARS[name]})" for name in owned)
        )
    return {str(name): item for name, item in value.items()}


# The vars the run command sets itself, and where a user sets them instead.
COMMAND_VARS = {
    "events_path": "EVENTS / --events",
    "export_dir": "EXPORT_DIR / --export-dir",
    "file_listing_path": "the run's listing",
    "data_tests_scope": "the run's data tests",
    "export_all": "the run's exports",
}


def split_dbt_vars(dbt_args: Sequence[str]) -> tuple[list[str], list[str]]:
    """The dbt arguments without `--vars X` / `--vars=X`, and the X's (merged by
    the caller into the run's vars: dbt keeps only the last --vars it is given)."""
    rest: list[str] = []
    found: list[str] = []
    args = iter(dbt_args)
    for arg in args:
        if arg == "--vars":
            value = next(args, None)
            if value is None:
                raise PipelineError("--vars after -- needs a value")
            found.append(value)
        elif arg.startswith("--vars="):
            found.append(arg.removeprefix("--vars="))
        else:
            rest.append(arg)
    return rest, found


def dbt_build(
    dbt_vars: dict[str, object], target: str, extra: Sequence[str], keep_open: Sequence[int] = ()
) -> None:
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
    java_options, archive_written = driver_jvm.java_options(CLASS_ARCHIVE)
    # more JVM options of your own for the driver (e.g. a flight recording:
    # benchmarks/cpu_by_statement.py --record)
    extra_java = os.environ.get("WEB_EVENTS_DRIVER_EXTRA_JAVA_OPTIONS", "")
    env = {
        **os.environ,
        "WEB_EVENTS_HOME": str(PROJECT_DIR),
        "WEB_EVENTS_DRIVER_JAVA_OPTIONS": " ".join(filter(None, [java_options, extra_java])),
    }
    result = subprocess.run(
        command, cwd=PROJECT_DIR, env=env, check=False, pass_fds=tuple(keep_open)
    )
    if archive_written is not None:
        driver_jvm.finish_class_archive(
            CLASS_ARCHIVE, archive_written, succeeded=result.returncode == 0
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

    Every table is first written whole to a hidden temporary file beside its
    CSV; only when all are written are they renamed into place. An I/O error
    (a full disk, a folder that became read-only) removes the temporary files
    and stops the run in one line, leaving the previous CSV files as they were.
    """
    sources = []
    for table in EXPORT_TABLES:
        parts_dir = export_dir / PARTS_DIR / table
        days = sorted(parts_dir.glob("*=*/part-*.csv"))
        parts = sorted(parts_dir.glob("part-*.csv")) + days
        if not parts or not (parts_dir / "_SUCCESS").exists():
            raise PipelineError(
                f"no complete CSV export of {table} in {parts_dir}: was the model built?"
            )
        sources.append((export_dir / f"{table}.csv", parts))
    temporary: list[Path] = []
    final, step = export_dir, "write"
    try:
        for final, parts in sources:
            fd, temp = create_new_file(export_dir, f".{final.stem}")
            temporary.append(temp)
            with os.fdopen(fd, "wb") as out:
                join_parts(parts, out)
        step = "replace"
        for (final, _), temp in zip(sources, temporary, strict=True):
            os.replace(temp, final)
    except OSError as error:
        reason = "the disk is full" if error.errno == errno.ENOSPC else error.strerror or error
        kept = "the CSV files there are" if step == "write" else "this file and the next are"
        raise PipelineError(
            f"could not {step} {final}: {reason}; {kept} still those of the last run that published"
        ) from None
    finally:
        for temp in temporary:
            temp.unlink(missing_ok=True)  # renamed into place, or written in vain
    return [final for final, _ in sources]


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
    """Check what can be checked without Spark, then build and publish holding the run's lock."""
    events_path = resolve_events_path(args.events)
    if not args.export_dir.strip():
        raise PipelineError("EXPORT_DIR is empty: name the folder for the CSV files")
    export_dir = Path(args.export_dir).expanduser().resolve()
    profile_output(args.target)
    user_vars = parse_user_vars(args.vars, "VARS")
    dbt_args, more_vars = split_dbt_vars(args.dbt_args)
    for text in more_vars:
        user_vars.update(parse_user_vars(text, "--vars"))
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
    check_export_dir(export_dir)  # the last check: it creates the folder
    with run_lock(args.target) as lock:
        build_and_publish(args, events_path, export_dir, listing.files, user_vars, dbt_args, lock)


def build_and_publish(
    args: argparse.Namespace,
    events_path: str,
    export_dir: Path,
    listed: list[str],
    user_vars: dict[str, object],
    dbt_args: list[str],
    lock: int,
) -> None:
    folder = run_dir(args.target)
    finished = file_listing.read_finished(folder)
    dbt_vars = {**user_vars, **build_vars(events_path, export_dir, folder / file_listing.LISTING)}
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
        and file_listing.is_unchanged(listed, finished)
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
        file_listing.measure(path, known.files.get(path) if known else None) for path in listed
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
    if reason is None:
        dbt_args += unchanged_seeds_left_out(folder)
    run_id = file_listing.new_run_id()
    file_listing.forget_finished(folder)
    file_listing.write_listing(folder, files, run_id, events_path)
    dbt_build(dbt_vars, args.target, dbt_args, keep_open=[lock])
    written = publish(export_dir)
    summary = summarise(written)
    keep_manifest_as_state(folder)
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
    """The options; each default comes from the environment variable `make run` sets
    (WEB_EVENTS_EVENTS, ...), so the Makefile passes values without shell text."""
    env = os.environ
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="build, test the data and export the CSVs")
    run_parser.add_argument(
        "--events",
        default=env.get("WEB_EVENTS_EVENTS", "data/source_event_data.json"),
        help="a JSON-lines file, a folder or a glob (env WEB_EVENTS_EVENTS)",
    )
    run_parser.add_argument(
        "--export-dir",
        default=env.get("WEB_EVENTS_EXPORT_DIR", "exports"),
        help="folder for the CSV files (env WEB_EVENTS_EXPORT_DIR)",
    )
    run_parser.add_argument(
        "--target",
        default=env.get("WEB_EVENTS_TARGET", "local"),
        help="dbt target (local, thrift) (env WEB_EVENTS_TARGET)",
    )
    run_parser.add_argument(
        "--full-refresh",
        action="store_true",
        default=is_set(env.get("WEB_EVENTS_FULL_REFRESH", "")),
        help="rebuild every table from all files (env WEB_EVENTS_FULL_REFRESH=1)",
    )
    run_parser.add_argument(
        "--vars",
        default=env.get("WEB_EVENTS_VARS", ""),
        help="more dbt vars as YAML or JSON, merged with the run's own (env WEB_EVENTS_VARS)",
    )
    run_parser.add_argument("dbt_args", nargs="*", help="more dbt build arguments, after --")
    return parser.parse_args(argv)


def is_set(flag: str) -> bool:
    """FULL_REFRESH=1 (or yes, true); empty, 0, no and false leave it off."""
    return flag.strip().lower() not in ("", "0", "no", "false", "off")


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
