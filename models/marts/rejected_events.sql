{#-
    The quarantine: one row per rejected input line, with the first SPEC rule
    it broke. Nothing is dropped silently: non-blank lines = user_activity rows
    + rejected_events rows.

    The CSV export leaves out `loaded_at` so that re-running the same build
    gives byte-identical files (SPEC); the table keeps it.
-#}
{{ config(
    post_hook=export_csv(
        columns=['source_file', 'line_number', 'reason', 'event_id', 'raw_record'],
        order_by=['source_file', 'line_number'],
    )
) }}

with

events as (
    select * from {{ ref('int_events_deduplicated') }}
    where rejection_reason is not null
),

final as (
    select
        source_file,
        line_number,
        rejection_reason as reason,
        event_id,
        raw_record,
        loaded_at
    from events
)

select * from final
