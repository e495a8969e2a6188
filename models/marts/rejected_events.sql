{#-
    The quarantine: one row per rejected input line, with the first SPEC rule
    it broke. Nothing is dropped silently: non-blank lines = user_activity rows
    + rejected_events rows.

    The CSV export leaves out `loaded_at` and `decided_in_run` so that re-running
    the same build gives byte-identical files (SPEC); the table keeps them.
    Incremental like user_activity: only the days that changed are rewritten
    (rows only ever join this table, so no day empties).
-#}
{%- set touched = touched_partitions(ref('int_events_deduplicated')) -%}
{{ config(
    partition_by=['event_date'],
    post_hook=[
        "{{ export_csv() }}",
    ],
    meta={
        'export': {
            'columns': ['source_file', 'line_number', 'reason', 'event_id', 'raw_record'],
            'order_by': ['source_file', 'line_number'],
        },
    },
) }}

with

rejected as (
    select * from {{ ref('int_events_deduplicated') }}
    where
        rejection_reason is not null
        and {{ in_partitions('event_date', touched) }}
),

lines as (
    -- the text of each line lives in staging only (the widest column)
    select
        source_file,
        line_number,
        raw_record
    from {{ ref('stg_web_events') }}
),

final as (
    select /*+ broadcast(rejected) */
        rejected.source_file,
        rejected.line_number,
        rejected.rejection_reason as reason,
        rejected.event_id,
        lines.raw_record,
        rejected.loaded_at,
        rejected.decided_in_run,
        rejected.event_date
    from rejected
    inner join lines
        on
            rejected.source_file = lines.source_file
            and rejected.line_number = lines.line_number
)

select * from final
