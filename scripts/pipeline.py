"""Run the web-events pipeline the way `make run` does.

1. Check that the events path exists (a file, a folder or a glob), so a typo
   fails in a second with a clear message instead of after Spark has started;
   for a Thrift target, check that its server accepts connections.
2. `dbt build` (models, seeds and data tests; unit tests belong to `make test`)
   with `events_path` and `export_dir` as absolute paths.
3. Publish the exports: each mart's post-hook left one CSV part file under
   `<export_dir>/_parts/<table>/`; it is renamed to `<export_dir>/<table>.csv`,
   which replaces the old file atomically (a reader never sees half a file).
4. Print a summary: events read, accepted, rejected per reason, files written.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
EXPORT_TABLES = ("user_activity", "hrly_granular_activity", "rejected_events")
PARTS_DIR = "_parts"
GLOB_CHARS = set("*?[{")


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


def dbt_build(events_path: str, export_dir: Path, target: str, extra: Sequence[str]) -> None:
    dbt_vars = {"events_path": events_path, "export_dir": str(export_dir)}
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
    env = {**os.environ, "WEB_EVENTS_HOME": str(PROJECT_DIR)}
    result = subprocess.run(command, cwd=PROJECT_DIR, env=env, check=False)
    if result.returncode != 0:
        raise PipelineError(
            f"dbt build failed (exit {result.returncode}); its log is above and in "
            f"{PROJECT_DIR / 'logs' / 'dbt.log'}"
        )


def publish(export_dir: Path) -> list[Path]:
    """Move each table's single part file to <export_dir>/<table>.csv atomically."""
    written = []
    for table in EXPORT_TABLES:
        parts = sorted((export_dir / PARTS_DIR / table).glob("part-*.csv"))
        if len(parts) != 1:
            raise PipelineError(
                f"expected one CSV part for {table} in {export_dir / PARTS_DIR / table}, "
                f"found {len(parts)}: was the model built in this run?"
            )
        final = export_dir / f"{table}.csv"
        os.replace(parts[0], final)
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
    dbt_build(events_path, export_dir, args.target, args.dbt_args)
    print(summarise(publish(export_dir)).render())


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
