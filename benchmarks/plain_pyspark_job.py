"""Baseline: the old seed's work as one plain PySpark job, to compare the dbt pipeline against.

It does what the original one-file script did, written cleanly and no smarter: `spark.read.json`
with schema inference (one pass over the data to infer, a second to read), user_activity
(user id, timestamp, domain and the first two path levels, activity) and hourly counts of events
and distinct users per hour, domain, first path level and activity, each written as a CSV
folder with `coalesce(1)` and Spark's CSV defaults. It has no quarantine and no de-duplication:
rows it cannot read (a null user id, timestamp, domain or activity) are dropped. It runs with
ANSI mode on, so casts and array access use the `try_`/`get` forms.

Usage:
    python benchmarks/plain_pyspark_job.py --events '/tmp/events/*.json' --out /tmp/plain \\
        [--master local[2]]

Prints one JSON line on stdout: elapsed seconds (read, transform and both writes) and the row
counts of the two outputs (counted afterwards from the written CSVs, outside the timing).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

TIMESTAMP_FORMAT = "MM/dd/yyyy HH:mm:ss"
SCHEME = r"^(?:(?:[A-Za-z][A-Za-z0-9+.-]*:)?//)?"
HOST = SCHEME + r"(?:[^/?#]*@)?(?:www[0-9]*\.|w3\.)?([^/?#:]*)"
PATH = SCHEME + r"[^/?#]*([^?#]*)"


def spark_session(master: str) -> SparkSession:
    spark = (
        SparkSession.builder.master(master)
        .appName("plain_pyspark_baseline")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    return spark


def user_id_column(events: DataFrame) -> Column:
    """user.id as BIGINT; inference makes `user` a string when some line has `"user": "abc"`."""
    if "user" not in events.columns:
        return F.lit(None).cast("bigint")
    if isinstance(events.schema["user"].dataType, StructType):
        raw = F.col("user.id") if "id" in events.schema["user"].dataType.names else F.lit(None)
    else:
        raw = F.get_json_object(F.col("user"), "$.id")
    return raw.try_cast("bigint")


def text_column(events: DataFrame, name: str) -> Column:
    return F.col(name).cast("string") if name in events.columns else F.lit(None).cast("string")


def user_activity(events: DataFrame) -> DataFrame:
    url = F.trim(text_column(events, "url"))
    path_levels = F.filter(F.split(F.regexp_extract(url, PATH, 1), "/"), lambda p: p != "")
    return events.select(
        user_id_column(events).alias("user_id"),
        F.try_to_timestamp(text_column(events, "timestamp"), F.lit(TIMESTAMP_FORMAT)).alias(
            "time_stamp"
        ),
        F.nullif(F.regexp_extract(F.lower(url), HOST, 1), F.lit("")).alias("url_level1"),
        F.get(path_levels, 0).alias("url_level2"),
        F.get(path_levels, 1).alias("url_level3"),
        F.nullif(F.lower(F.trim(text_column(events, "action"))), F.lit("")).alias("activity"),
    ).dropna(subset=["user_id", "time_stamp", "url_level1", "activity"])


def hourly_activity(activity: DataFrame) -> DataFrame:
    return activity.groupBy(
        F.date_format("time_stamp", "yyyyMMddHH").alias("time_bucket"),
        "url_level1",
        "url_level2",
        "activity",
    ).agg(
        F.count("*").alias("activity_count"),
        F.countDistinct("user_id").alias("user_count"),
    )


def write_csv(frame: DataFrame, folder: Path) -> None:
    (
        frame.coalesce(1)
        .write.mode("overwrite")
        .option("header", "true")
        .option("timestampFormat", "yyyy-MM-dd HH:mm:ss")
        .csv(str(folder))
    )


def run(spark: SparkSession, events_path: str, out: Path) -> float:
    """The timed job: read, transform, write both CSV folders. Returns elapsed seconds."""
    started = time.perf_counter()
    events = spark.read.json(events_path)
    activity = user_activity(events)
    write_csv(
        activity.orderBy(
            "time_stamp", "user_id", "url_level1", "url_level2", "url_level3", "activity"
        ),
        out / "user_activity",
    )
    write_csv(
        hourly_activity(activity).orderBy("time_bucket", "url_level1", "url_level2", "activity"),
        out / "hrly_granular_activity",
    )
    return time.perf_counter() - started


def csv_rows(spark: SparkSession, folder: Path) -> int:
    return spark.read.option("header", "true").csv(str(folder)).count()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", required=True, help="a file, a directory or a glob")
    parser.add_argument("--out", required=True, type=Path, help="folder for the CSV folders")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args(argv)
    spark = spark_session(args.master)
    try:
        elapsed = run(spark, args.events, args.out)
        result = {
            "job": "plain_pyspark",
            "events": args.events,
            "master": args.master,
            "elapsed_s": round(elapsed, 3),
            "user_activity_rows": csv_rows(spark, args.out / "user_activity"),
            "hrly_granular_activity_rows": csv_rows(spark, args.out / "hrly_granular_activity"),
        }
    finally:
        spark.stop()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
