-- SPEC: non-blank input lines = accepted events + rejected_events rows, and
-- user_activity rows = accepted events. Nothing may be lost between the files
-- and the marts.
--
-- Two checks, both proportional to what the latest run read:
-- 1. each file the latest run read (its load_ledger rows): the non-blank lines
--    the run command counted in the part it read equal the lines staging
--    holds of that part (earlier reads were checked by their own run; on a
--    full rebuild every file is read by one run);
-- 2. all staged lines = user_activity rows + rejected_events rows (parquet
--    row counts, no scan).
with

latest_reads as (
    select
        run_id,
        file_path,
        first_line,
        last_line,
        non_blank_lines
    from {{ ref('load_ledger') }}
    where
        first_line is not null
        and run_id = (
            select max(run_id) from {{ ref('load_ledger') }}
            where first_line is not null
        )
),

staged_lines as (
    select
        source_file,
        run_id,
        count(*) as line_count
    from {{ ref('stg_web_events') }}
    where run_id = (select max(run_id) from latest_reads)
    group by source_file, run_id
),

file_mismatches as (
    select
        coalesce(latest_reads.file_path, staged_lines.source_file) as source_file,
        latest_reads.non_blank_lines as non_blank_lines_read,
        staged_lines.line_count as staged_lines
    from latest_reads
    full outer join staged_lines
        on
            latest_reads.file_path = staged_lines.source_file
            and latest_reads.run_id = staged_lines.run_id
    where coalesce(latest_reads.non_blank_lines, 0) != coalesce(staged_lines.line_count, 0)
),

totals as (
    select
        (select count(*) from {{ ref('stg_web_events') }}) as staged_lines,
        (select count(*) from {{ ref('user_activity') }}) as accepted_events,
        (select count(*) from {{ ref('rejected_events') }}) as rejected_lines
),

total_mismatches as (
    select * from totals
    where staged_lines != accepted_events + rejected_lines
)

select
    'file' as failed_check,
    source_file,
    non_blank_lines_read,
    staged_lines,
    cast(null as bigint) as accepted_events,
    cast(null as bigint) as rejected_lines
from file_mismatches

union all

select
    'totals' as failed_check,
    cast(null as string) as source_file,
    cast(null as bigint) as non_blank_lines_read,
    staged_lines,
    accepted_events,
    rejected_lines
from total_mismatches
