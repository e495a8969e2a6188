"""The files a run reads, listed and fingerprinted without starting Spark.

The run command (scripts/pipeline.py) lists the events path here, writes the
listing as JSON lines for the dbt source `file_listing`, and keeps it, with a
record of the run that finished, in `.run/<target>-<schema>/`. The model
`load_ledger` compares the listing with what earlier runs read and decides,
file by file, what this run reads (docs/incremental.md;
models/staging/load_ledger.sql). This module only
lists and measures; it decides nothing about the tables, with two
exceptions that need no Spark: a run whose listing equals the last finished
run's has nothing to do, and a file whose bytes already read changed makes
the run fail at once.

What a file is, as Spark and Hadoop see it: a regular file named directly, or
directly inside a named folder, or matched by a glob; names that start with
`_` or `.` are hidden and never read.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

GLOB_CHARS = set("*?[{")
CHUNK = 8 << 20
# the characters every "blank" rule treats as whitespace (macros/rules/trim_to_null.sql)
WHITESPACE = b" \t\n\x0b\x0c\r"
LISTING = "listing.json"
FINISHED = "finished.json"


class ListingError(Exception):
    """An events path the run cannot read; printed as one line."""


@dataclass(frozen=True)
class ListedFile:
    """One file as this run finds it, with what the ledger needs to decide on it.

    `fingerprint` is the SHA-256 of the whole file, `line_count` its lines as
    Spark splits them (on \\n, \\r\\n or \\r; a last line without a terminator
    counts). `prefix_bytes` and `prefix_fingerprint` are the length and the
    SHA-256 of the part the last finished run had read (NULL for a file it did
    not know), so that the ledger can tell a grown file from a changed one.
    `non_blank_lines` counts the non-blank lines after that part, and
    `last_line_complete` says the file ends with a line break (or is empty), so
    that bytes appended later start a new line.
    """

    file_path: str
    size_bytes: int
    modified_at: str
    fingerprint: str
    line_count: int
    last_line_complete: bool
    prefix_bytes: int | None
    prefix_fingerprint: str | None
    non_blank_lines: int


@dataclass(frozen=True)
class Listing:
    files: list[ListedFile]
    hidden: list[str]


@dataclass(frozen=True)
class FinishedRun:
    """What the last run that finished (tables built, CSVs published) was run on."""

    run_id: str
    events_path: str
    export_dir: str
    project_fingerprint: str
    export_parts: list[str]
    files: dict[str, ListedFile]
    # what the run command printed about the exports (accepted, rejected per reason)
    counts: dict[str, object] = field(default_factory=dict)


def is_hidden(name: str) -> bool:
    return name.startswith(("_", "."))


def find_files(events_path: str) -> Listing:
    """The files under `events_path` that Spark reads, and the hidden ones it skips.

    Raises ListingError for a path that matches nothing, and for a hidden
    file named directly (Spark would read nothing from it, without a word).
    """
    if not events_path.strip():
        raise ListingError("the events path is empty: name a file, a folder or a glob")
    if GLOB_CHARS & set(events_path):
        matches = sorted(glob.glob(events_path))
        if not matches:
            raise ListingError(f"events path '{events_path}' matches no file")
    else:
        if not os.path.exists(events_path):
            raise ListingError(f"events path '{events_path}' does not exist")
        matches = [events_path]
    files: list[str] = []
    hidden: list[str] = []
    for match in matches:
        path = Path(match)
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.is_file():
                    (hidden if is_hidden(child.name) else files).append(str(child))
        elif is_hidden(path.name):
            if match == events_path:
                raise ListingError(
                    f"events file '{events_path}' is hidden: Spark skips names that start "
                    "with '_' or '.', so nothing would be read; rename it"
                )
            hidden.append(match)
        elif path.is_file():
            files.append(match)
    listed = [str(Path(file).resolve()) for file in files]
    return Listing(files=sorted(set(listed)), hidden=sorted(set(hidden)))


def modified_at(stat: os.stat_result) -> str:
    """The modification time as the ledger stores it: UTC, microseconds."""
    return datetime.fromtimestamp(stat.st_mtime_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def is_blank(line: bytes) -> bool:
    return not line.strip(WHITESPACE)


class LineCounter:
    """Counts lines as Spark's text reader splits them, fed in chunks."""

    def __init__(self) -> None:
        self.lines = 0
        self.non_blank = 0
        self.pending = b""  # the current line so far
        self.after_cr = False  # the last byte was a \r: a \n next belongs to it

    def feed(self, chunk: bytes) -> None:
        if self.after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self.after_cr = chunk.endswith(b"\r")
        pieces = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        if len(pieces) == 1:
            self.pending += pieces[0]
            return
        self.end_line(self.pending + pieces[0])
        for piece in pieces[1:-1]:
            self.end_line(piece)
        self.pending = pieces[-1]

    def end_line(self, line: bytes) -> None:
        self.lines += 1
        if not is_blank(line):
            self.non_blank += 1

    def finish(self) -> None:
        if self.pending:
            self.end_line(self.pending)
            self.pending = b""


def measure(path: str, known: ListedFile | None) -> ListedFile:
    """Fingerprint and count one file, reading it once.

    With `known` (what the last finished run listed at this path) the hash of
    its first `known.size_bytes` bytes is taken on the way; a file whose size
    and modification time did not change is taken as unchanged, unread.
    """
    stat = os.stat(path)
    mtime = modified_at(stat)
    if known is not None and known.size_bytes == stat.st_size and known.modified_at == mtime:
        return replace(
            known,
            prefix_bytes=known.size_bytes,
            prefix_fingerprint=known.fingerprint,
            non_blank_lines=0,
        )
    prefix_bytes = known.size_bytes if known is not None else None
    whole = hashlib.sha256()
    counter = LineCounter()
    after_prefix = counter
    prefix_fingerprint = None
    last = b""
    with open(path, "rb") as handle:
        if prefix_bytes is not None and prefix_bytes <= stat.st_size:
            remaining = prefix_bytes
            while remaining and (chunk := handle.read(min(CHUNK, remaining))):
                whole.update(chunk)
                counter.feed(chunk)
                remaining -= len(chunk)
                last = chunk
            prefix_fingerprint = whole.copy().hexdigest()
            after_prefix = LineCounter()
        while chunk := handle.read(CHUNK):
            whole.update(chunk)
            counter.feed(chunk)
            if after_prefix is not counter:
                after_prefix.feed(chunk)
            last = chunk
    counter.finish()
    if after_prefix is not counter:
        after_prefix.finish()
    return ListedFile(
        file_path=path,
        size_bytes=stat.st_size,
        modified_at=mtime,
        fingerprint=whole.hexdigest(),
        line_count=counter.lines,
        last_line_complete=stat.st_size == 0 or last.endswith(b"\n"),
        prefix_bytes=prefix_bytes,
        prefix_fingerprint=prefix_fingerprint,
        non_blank_lines=after_prefix.non_blank,
    )


def changed_files(files: Iterable[ListedFile], finished: FinishedRun | None) -> list[str]:
    """Files whose bytes already read are no longer the same (rewritten, truncated),
    or that ended in the middle of a line and then grew: the ledger's rule for
    `changed` (models/staging/load_ledger.sql), checked here too so that such a
    run fails before Spark starts."""
    if finished is None:
        return []
    changed = []
    for file in files:
        known = finished.files.get(file.file_path)
        if known is None:
            continue
        same = file.size_bytes == known.size_bytes and file.fingerprint == known.fingerprint
        grown = (
            file.size_bytes > known.size_bytes
            and file.prefix_fingerprint == known.fingerprint
            and known.last_line_complete
        )
        if not (same or grown):
            changed.append(file.file_path)
    return changed


def is_unchanged(paths: list[str], finished: FinishedRun) -> bool:
    """The same files, with the same sizes and modification times, as the last finished run."""
    now = {}
    for path in paths:
        stat = os.stat(path)
        now[path] = (stat.st_size, modified_at(stat))
    then = {path: (file.size_bytes, file.modified_at) for path, file in finished.files.items()}
    return now == then


def project_fingerprint(project_dir: Path, settings: dict[str, object]) -> str:
    """SHA-256 over the project's dbt sources (models, macros, seeds, tests, the
    project and profile files) and the run's settings (target, schema, vars)."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    folders = ("models", "macros", "seeds", "tests", "analyses", "snapshots")
    paths = [project_dir / "dbt_project.yml", project_dir / "profiles" / "profiles.yml"]
    for folder in folders:
        paths += sorted(
            path
            for path in (project_dir / folder).rglob("*")
            if path.is_file() and path.suffix in {".sql", ".yml", ".yaml", ".csv", ".md"}
        )
    for path in paths:
        if path.exists():
            digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def new_run_id() -> str:
    """Sortable, unique enough for one project: the UTC time to the microsecond."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def listing_rows(files: list[ListedFile], run_id: str, events_path: str) -> Iterator[str]:
    for file in files:
        yield json.dumps({**asdict(file), "run_id": run_id, "events_path": events_path})


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def write_listing(run_dir: Path, files: list[ListedFile], run_id: str, events_path: str) -> Path:
    """This run's listing, for the dbt source `file_listing` (JSON lines)."""
    path = run_dir / LISTING
    rows = list(listing_rows(files, run_id, events_path))
    write_atomically(path, "".join(row + "\n" for row in rows))
    return path


def read_finished(run_dir: Path) -> FinishedRun | None:
    """The last run that finished, or None when there is none or the run after it
    did not finish (its listing then no longer matches the record)."""
    try:
        record = json.loads((run_dir / FINISHED).read_text(encoding="utf-8"))
        rows = [
            json.loads(line)
            for line in (run_dir / LISTING).read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    except (OSError, ValueError):
        return None
    if any(row.get("run_id") != record.get("run_id") for row in rows):
        return None
    fields = set(ListedFile.__dataclass_fields__)
    files = {row["file_path"]: ListedFile(**{k: row[k] for k in fields}) for row in rows}
    try:
        return FinishedRun(
            run_id=record["run_id"],
            events_path=record["events_path"],
            export_dir=record["export_dir"],
            project_fingerprint=record["project_fingerprint"],
            export_parts=list(record.get("export_parts", [])),
            files=files,
            counts=dict(record.get("counts", {})),
        )
    except KeyError:
        return None


def forget_finished(run_dir: Path) -> None:
    """A run is starting: until it finishes, nothing may rely on the last one."""
    (run_dir / FINISHED).unlink(missing_ok=True)


def record_finished(run_dir: Path, run: FinishedRun) -> None:
    record = {
        "run_id": run.run_id,
        "events_path": run.events_path,
        "export_dir": run.export_dir,
        "project_fingerprint": run.project_fingerprint,
        "export_parts": run.export_parts,
        "counts": run.counts,
    }
    write_atomically(run_dir / FINISHED, json.dumps(record, indent=1) + "\n")
