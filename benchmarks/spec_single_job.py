"""Baseline (a''): SPEC's whole contract as one hand-written PySpark job, in one pass.

What `make run --full-refresh` does, without dbt, tables or incremental state:
  1. read the text lines once (`spark.read.text`), with each line's file (`_metadata`), the
     file block it was read in and a row id (`monotonically_increasing_id`, consecutive within
     a block);
  2. `from_json` into the typed event (PERMISSIVE, with a corrupt-record column; `user.id` as a
     VARIANT, so that `56456` and `"56456"` can be told apart) and SPEC's rules 1-7 as column
     expressions, the first failing rule naming the reason;
  3. rule 8: `row_number` over each event_id of the valid lines, ordered by event time, source
     file path, then position in the file (block, row id: the line order); the decisions (one
     row per line, with its reason or none) written as Parquet to `<out>/decisions`;
  4. from the decisions: `user_activity.csv`, `hrly_granular_activity.csv` and
     `rejected_events.csv` in `<out>`, each one sorted file (a global sort, `coalesce(1)`, the
     part file renamed into place). Line numbers (1-based, blank lines counted) are needed by
     the rejected lines only: each block's first line number comes from the line counts of the
     blocks before it, counted over the decisions.

The CSV columns and format are those of tests/e2e/spec_oracle.py. Known differences from the
oracle (none occurs in scripts/generate_events.py's data): `from_json` ignores text after the
JSON object and keeps the last of duplicate keys, and reads a boolean, object or array in a
text field (event_id, action, url, timestamp, user.session_id, user.ip) as its JSON text, so
those lines are not `malformed_json`; a JSON number in event_id keeps Spark's form of it
(`1.5e3` becomes `1500.0`).

Usage:
    python benchmarks/spec_single_job.py --events '/tmp/events/*.json' --out /tmp/spec \\
        [--master 'local[*]']

Prints one JSON line on stdout: elapsed seconds (read, decisions, the three CSV files).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from benchmarks.seed_style_job import spark_session  # noqa: E402

TIMESTAMP_FORMAT = "MM/dd/yyyy HH:mm:ss"
# SPEC's "blank": Java's \s (space, tab, LF, vertical tab, form feed, CR)
WHITESPACE = " \t\n\x0b\f\r"
LINE_SCHEMA = (
    "event_id string, user struct<session_id string, id variant, ip string>, "
    "action string, url string, timestamp string, _corrupt_record string"
)
SCHEME = r"^([A-Za-z][A-Za-z0-9+.-]*:)?//"
HOST = r"^(?:[^/?#]*@)?([^/?#:]*)"
WWW_LABEL = r"^(www[0-9]*|w3)\."
PATH = r"^[^/?#]*([^?#]*)"
NUMBER_KINDS = ("BIGINT", "INT", "SMALLINT", "TINYINT", "DOUBLE", "FLOAT")
# a user.id of one of these JSON shapes is malformed_json (schema_of_variant names them)
NOT_TEXT_KINDS = "^(BOOLEAN|OBJECT|ARRAY)"
CSV_OPTIONS = {
    "header": "true",
    "sep": ",",
    "quote": '"',
    "escape": '"',
    "nullValue": "",
    "emptyValue": "",
    "ignoreLeadingWhiteSpace": "false",
    "ignoreTrailingWhiteSpace": "false",
    "lineSep": "\n",
    "encoding": "UTF-8",
    "timestampFormat": "yyyy-MM-dd HH:mm:ss",
}
USER_ACTIVITY = ["user_id", "time_stamp", "url_level1", "url_level2", "url_level3", "activity"]
USER_ACTIVITY_ORDER = [
    "time_stamp",
    "user_id",
    "url_level1",
    "url_level2",
    "url_level3",
    "activity",
]
HOURLY_KEYS = ["time_bucket", "url_level1", "url_level2", "activity"]


def trim_to_null(column: Column) -> Column:
    """Text without leading and trailing whitespace, NULL when nothing is left."""
    return F.nullif(F.trim(column, F.lit(WHITESPACE)), F.lit(""))


def read_lines(spark: SparkSession, events_path: str) -> DataFrame:
    """Every line of the input, with where it came from (the one read of the text)."""
    uri = F.col("_metadata.file_path")
    return spark.read.text(events_path).select(
        F.col("value").alias("raw_record"),
        F.regexp_replace(
            F.url_decode(F.replace(uri, F.lit("+"), F.lit("%2B"))), "^file:", ""
        ).alias("source_file"),
        F.col("_metadata.file_block_start").alias("block_start"),
        F.monotonically_increasing_id().alias("row_id"),
    )


def user_id_of(user_id: Column, digits: Column, kind: Column) -> Column:
    """Rule 4: a JSON number with an integral value, or a string of digits, as BIGINT.

    `user_id` is the VARIANT, `digits` its text trimmed, `kind` its schema_of_variant.
    """
    as_decimal = F.try_variant_get(user_id, "$", "decimal(38,18)")
    is_number = kind.isin(*NUMBER_KINDS) | kind.startswith("DECIMAL")
    return F.when(
        is_number & (as_decimal == F.floor(as_decimal)), as_decimal.try_cast("bigint")
    ).when((kind == "STRING") & digits.rlike("^[0-9]+$"), digits.try_cast("bigint"))


def validated(lines: DataFrame) -> DataFrame:
    """Rules 1-7: each non-blank line normalised, with the first rule it breaks (or NULL)."""
    record = F.from_json(
        "raw_record",
        LINE_SCHEMA,
        {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt_record"},
    )
    parsed = lines.select(
        "*",
        (F.ltrim("raw_record", F.lit(WHITESPACE)) != "").alias("is_event"),
        record.alias("record"),
    ).select(
        "raw_record",
        "source_file",
        "block_start",
        "row_id",
        "is_event",
        F.col("record._corrupt_record").isNotNull().alias("is_corrupt"),
        trim_to_null(F.col("record.event_id")).alias("event_id_text"),
        F.col("record.user.id").alias("user_id_value"),
        F.schema_of_variant("record.user.id").alias("user_id_kind"),
        trim_to_null(F.col("record.action")).alias("action_text"),
        trim_to_null(F.col("record.timestamp")).alias("timestamp_text"),
        F.regexp_replace(trim_to_null(F.col("record.url")), SCHEME, "").alias("url_rest"),
    )
    kind = F.col("user_id_kind")
    user_id_text = trim_to_null(F.try_variant_get("user_id_value", "$", "string"))
    # absent, JSON null, or a blank string
    user_id_missing = (
        kind.isNull() | (kind == "VOID") | ((kind == "STRING") & user_id_text.isNull())
    )
    normalised = parsed.select(
        "raw_record",
        "source_file",
        "block_start",
        "row_id",
        "is_event",
        (F.col("is_corrupt") | kind.rlike(NOT_TEXT_KINDS)).alias("is_malformed"),
        "event_id_text",
        user_id_missing.alias("user_id_missing"),
        user_id_of(F.col("user_id_value"), user_id_text, kind).alias("user_id"),
        F.lower("action_text").alias("activity"),
        F.try_to_timestamp("timestamp_text", F.lit(TIMESTAMP_FORMAT)).alias("time_stamp"),
        F.nullif(F.lower(F.regexp_extract("url_rest", HOST, 1)), F.lit("")).alias("url_host"),
        F.filter(F.split(F.regexp_extract("url_rest", PATH, 1), "/"), lambda p: p != "").alias(
            "path_pieces"
        ),
    )
    reason = (
        F.when(~F.col("is_event"), None)
        .when(F.col("is_malformed"), "malformed_json")
        .when(F.col("event_id_text").isNull(), "missing_event_id")
        .when(F.col("user_id_missing"), "missing_user_id")
        .when(F.col("user_id").isNull(), "invalid_user_id")
        .when(F.col("activity").isNull(), "missing_action")
        .when(F.col("time_stamp").isNull(), "invalid_timestamp")
        .when(F.col("url_host").isNull(), "invalid_url")
    )
    host = F.col("url_host")
    return normalised.select(
        "raw_record",
        "source_file",
        "block_start",
        "row_id",
        "is_event",
        F.when(~F.col("is_malformed"), F.col("event_id_text")).alias("event_id"),
        "user_id",
        "time_stamp",
        F.coalesce(F.nullif(F.regexp_replace(host, WWW_LABEL, ""), F.lit("")), host).alias(
            "url_level1"
        ),
        F.get("path_pieces", 0).alias("url_level2"),
        F.get("path_pieces", 1).alias("url_level3"),
        "activity",
        reason.alias("rule_reason"),
    )


def decided(lines: DataFrame) -> DataFrame:
    """Rule 8 on top of rules 1-7: one row per line with its final reason (NULL: accepted)."""
    is_valid = F.col("is_event") & F.col("rule_reason").isNull()
    ranking = Window.partitionBy(is_valid, "event_id").orderBy(
        "time_stamp", "source_file", "block_start", "row_id"
    )
    reason = F.coalesce(
        "rule_reason", F.when(is_valid & (F.row_number().over(ranking) > 1), "duplicate_event")
    )
    return lines.select("*", reason.alias("reason")).select(
        "source_file",
        "block_start",
        "row_id",
        "is_event",
        "event_id",
        "user_id",
        "time_stamp",
        "url_level1",
        "url_level2",
        "url_level3",
        "activity",
        "reason",
        # only the rejected lines need the text
        F.when(F.col("reason").isNotNull(), F.col("raw_record")).alias("raw_record"),
    )


def line_numbers(decisions: DataFrame) -> DataFrame:
    """The first line number of each file block: one more than the lines of the blocks before."""
    blocks = decisions.groupBy("source_file", "block_start").agg(
        F.min("row_id").alias("first_row_id"), F.count("*").alias("lines")
    )
    before = Window.partitionBy("source_file").orderBy("block_start")
    return blocks.select(
        "source_file",
        "block_start",
        "first_row_id",
        (F.sum("lines").over(before) - F.col("lines") + 1).alias("first_line"),
    )


def rejected_events(decisions: DataFrame) -> DataFrame:
    rejected = decisions.where(F.col("reason").isNotNull())
    numbered = rejected.join(
        F.broadcast(line_numbers(decisions)), ["source_file", "block_start"], "inner"
    )
    line = F.col("first_line") + F.col("row_id") - F.col("first_row_id")
    return numbered.select(
        "source_file", line.alias("line_number"), "reason", "event_id", "raw_record"
    ).orderBy("source_file", "line_number")


def hourly_activity(accepted: DataFrame) -> DataFrame:
    return (
        accepted.groupBy(
            F.date_format("time_stamp", "yyyyMMddHH").alias("time_bucket"),
            "url_level1",
            "url_level2",
            "activity",
        )
        .agg(
            F.count("*").alias("activity_count"),
            F.countDistinct("user_id").alias("user_count"),
        )
        .orderBy(*HOURLY_KEYS)
    )


def write_single_csv(frame: DataFrame, path: Path) -> None:
    """One sorted CSV file: the sorted frame in one part file, renamed into place."""
    parts = path.parent / "_parts" / path.stem
    frame.coalesce(1).write.mode("overwrite").options(**CSV_OPTIONS).csv(str(parts))
    (part,) = parts.glob("part-*.csv")
    os.replace(part, path)
    shutil.rmtree(parts)
    with contextlib.suppress(OSError):
        parts.parent.rmdir()  # once the last file is in place


def run(spark: SparkSession, events_path: str, out: Path) -> float:
    """The timed job: read, decide, write the decisions and the three CSV files."""
    started = time.perf_counter()
    decisions_dir = out / "decisions"
    decided(validated(read_lines(spark, events_path))).write.mode("overwrite").parquet(
        str(decisions_dir)
    )
    decisions = spark.read.parquet(str(decisions_dir))
    accepted = decisions.where(F.col("is_event") & F.col("reason").isNull())
    write_single_csv(
        accepted.select(*USER_ACTIVITY).orderBy(*USER_ACTIVITY_ORDER), out / "user_activity.csv"
    )
    write_single_csv(hourly_activity(accepted), out / "hrly_granular_activity.csv")
    write_single_csv(rejected_events(decisions), out / "rejected_events.csv")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", required=True, help="a file, a directory or a glob")
    parser.add_argument("--out", required=True, type=Path, help="folder for the outputs")
    parser.add_argument("--master", default="local[*]")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with spark_session("spec_single_job", args.master) as spark:
        elapsed = run(spark, args.events, args.out)
    result = {
        "job": "spec_single",
        "events": args.events,
        "master": args.master,
        "elapsed_s": round(elapsed, 3),
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
