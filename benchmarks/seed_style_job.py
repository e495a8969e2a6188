"""Baseline (a'): the seed's one-file script as it was written, with the URL split done right.

The original script (`hipages_user_activity_analysis.py`) read the events with
`spark.read.json`, an explicit schema and mode DROPMALFORMED (one pass, lines that do not fit
the schema dropped), split the URL, grouped per hour and wrote both tables as CSV folders,
unsorted and in as many part files as Spark makes. This job does the same, with the URL split
of SPEC (host without `www.`, `wwwN.` or `w3.`, the first two path levels; the plain job's
regular expressions), the timestamp parsed with `try_to_timestamp` and `user.id` read as
text and cast with `try_cast` (ANSI mode is on). The original typed `user.id` LONG, which
makes DROPMALFORMED drop every line whose id is a string of digits (5% of the generated
events, valid by SPEC); read as text, a number and a string of digits both give the id.
As in the original, nothing is de-duplicated and rows with NULLs are kept.

Usage:
    python benchmarks/seed_style_job.py --events '/tmp/events/*.json' --out /tmp/seed \\
        [--master 'local[*]'] [--count]

Prints one JSON line on stdout: elapsed seconds (read, transform and both writes) and, with
`--count`, the row counts of the two outputs (read back from the CSVs, outside the timing).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from benchmarks.plain_pyspark_job import (  # noqa: E402
    HOST,
    PATH,
    TIMESTAMP_FORMAT,
    csv_rows,
    hourly_activity,
)

EVENT_SCHEMA = StructType(
    [
        StructField("event_id", StringType()),
        StructField(
            "user",
            StructType(
                [
                    StructField("session_id", StringType()),
                    StructField("id", StringType()),
                    StructField("ip", StringType()),
                ]
            ),
        ),
        StructField("action", StringType()),
        StructField("url", StringType()),
        StructField("timestamp", StringType()),
    ]
)


@contextmanager
def spark_session(app_name: str, master: str) -> Iterator[SparkSession]:
    """A plain session (no Hive, so no Derby metastore) with its warehouse in a temp folder."""
    with tempfile.TemporaryDirectory(prefix=f"{app_name}_") as scratch:
        spark = (
            SparkSession.builder.master(master)
            .appName(app_name)
            .config("spark.sql.catalogImplementation", "in-memory")
            .config("spark.sql.warehouse.dir", str(Path(scratch) / "warehouse"))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "true")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("WARN")
        try:
            yield spark
        finally:
            spark.stop()


def user_activity(events: DataFrame) -> DataFrame:
    url = F.trim("url")
    path_levels = F.filter(F.split(F.regexp_extract(url, PATH, 1), "/"), lambda p: p != "")
    return events.select(
        F.col("user.id").try_cast("bigint").alias("user_id"),
        F.try_to_timestamp("timestamp", F.lit(TIMESTAMP_FORMAT)).alias("time_stamp"),
        F.regexp_extract(F.lower(url), HOST, 1).alias("url_level1"),
        F.get(path_levels, 0).alias("url_level2"),
        F.get(path_levels, 1).alias("url_level3"),
        F.col("action").alias("activity"),
    )


def write_csv(frame: DataFrame, folder: Path) -> None:
    (
        frame.write.mode("overwrite")
        .option("header", "true")
        .option("timestampFormat", "yyyy-MM-dd HH:mm:ss")
        .csv(str(folder))
    )


def run(spark: SparkSession, events_path: str, out: Path) -> float:
    """The timed job: read, transform, write both CSV folders. Returns elapsed seconds."""
    started = time.perf_counter()
    events = spark.read.schema(EVENT_SCHEMA).option("mode", "DROPMALFORMED").json(events_path)
    activity = user_activity(events)
    write_csv(activity, out / "user_activity")
    write_csv(hourly_activity(activity), out / "hrly_granular_activity")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", required=True, help="a file, a directory or a glob")
    parser.add_argument("--out", required=True, type=Path, help="folder for the CSV folders")
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--count", action="store_true", help="count the rows written")
    args = parser.parse_args(argv)
    with spark_session("seed_style_baseline", args.master) as spark:
        elapsed = run(spark, args.events, args.out)
        result: dict[str, object] = {
            "job": "seed_style",
            "events": args.events,
            "master": args.master,
            "elapsed_s": round(elapsed, 3),
        }
        if args.count:
            for name in ("user_activity", "hrly_granular_activity"):
                result[f"{name}_rows"] = csv_rows(spark, args.out / name)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
