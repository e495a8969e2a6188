-- SPEC: non-blank input lines = accepted events + rejected_events rows, and
-- user_activity rows = accepted events. Nothing may be lost between the files
-- and the marts.
--
-- Two checks, both proportional to what the last run loaded:
-- 1. each file of the latest load: its non-blank lines, counted straight from
--    the file, equal its staged lines (earlier files were checked when loaded;
--    on a full rebuild every file is in the latest load);
-- 2. all staged lines = user_activity rows + rejected_events rows (parquet
--    row counts, no scan).
{%- set stg = ref('stg_web_events') -%}
{%- set latest_files = [] -%}
{%- if execute and load_relation(stg) is not none -%}
{%- set query -%}
select distinct source_file_uri from {{ stg }}
        where loaded_at = (select max(loaded_at) from {{ stg }})
{%- endset -%}
{%- set latest_files = run_query(query).columns[0].values() | list -%}
{%- endif %}


with

raw_lines as (
    -- read through raw_event_lines_sql so that only these files are read
    select
        file_path as source_file_uri,
        count(*) as line_count
    from (
        {{ raw_event_lines_sql(raw_event_files_relation(), where=in_list('_metadata.file_path', latest_files)) }}
    ) as raw_event_lines
    where not {{ is_blank('line') }}
    group by file_path
),

staged_lines as (
    select
        source_file_uri,
        count(*) as line_count
    from {{ stg }}
    where {{ in_list('source_file_uri', latest_files) }}
    group by source_file_uri
),

file_mismatches as (
    select
        coalesce(raw_lines.source_file_uri, staged_lines.source_file_uri) as source_file_uri,
        raw_lines.line_count as non_blank_lines_in_file,
        staged_lines.line_count as staged_lines
    from raw_lines
    full outer join staged_lines
        on raw_lines.source_file_uri = staged_lines.source_file_uri
    where coalesce(raw_lines.line_count, -1) != coalesce(staged_lines.line_count, -1)
),

totals as (
    select
        (select count(*) from {{ stg }}) as staged_lines,
        (select count(*) from {{ ref('user_activity') }}) as accepted_events,
        (select count(*) from {{ ref('rejected_events') }}) as rejected_lines
),

total_mismatches as (
    select * from totals
    where staged_lines != accepted_events + rejected_lines
)

select
    'file' as failed_check,
    source_file_uri,
    non_blank_lines_in_file,
    staged_lines,
    cast(null as bigint) as accepted_events,
    cast(null as bigint) as rejected_lines
from file_mismatches

union all

select
    'totals' as failed_check,
    cast(null as string) as source_file_uri,
    cast(null as bigint) as non_blank_lines_in_file,
    staged_lines,
    accepted_events,
    rejected_lines
from total_mismatches
