{#-
    The quarantine: one row per rejected input line, with the first SPEC rule
    it broke. Nothing is dropped silently: non-blank lines = user_activity rows
    + rejected_events rows.

    The CSV export leaves out `loaded_at` and `decided_at` so that re-running
    the same build gives byte-identical files (SPEC); the table keeps them.
    Incremental like user_activity: only the days that changed are rewritten
    (rows only ever join this table, so no day empties).
-#}
{%- set touched = touched_partitions(ref('int_events_deduplicated')) -%}
{{ config(
    partition_by=['partition_date'],
    post_hook=export_csv(
        columns=['source_file', 'line_number', 'reason', 'event_id', 'raw_record'],
        order_by=['source_file', 'line_number'],
    ),
) }}

with

events as (
    select * from {{ ref('int_events_deduplicated') }}
    where
        rejection_reason is not null
        and {{ in_partitions('partition_date', touched) }}
),

final as (
    select
        source_file,
        line_number,
        rejection_reason as reason,
        event_id,
        raw_record,
        loaded_at,
        decided_at,
        partition_date
    from events
)

select * from final
