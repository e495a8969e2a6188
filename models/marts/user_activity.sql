{#-
    One row per accepted event: who did what, when, where (SPEC).
    `event_id` is the key; the CSV export carries SPEC's six columns. The
    lineage columns (source_file, line_number, loaded_at) say where each
    event came from.

    Incremental: partitioned by the event's UTC day; a run recomputes only the
    days in which int_events_deduplicated changed (new events, late events
    for an old day, or an event displaced by an earlier duplicate).
-#}
{%- set touched = touched_partitions(ref('int_events_deduplicated')) -%}
{{ config(
    partition_by=['event_date'],
    pre_hook="{{ drop_partitions('event_date', touched_partitions(ref('int_events_deduplicated'))) }}",
    post_hook=[
        "{{ export_csv(touched_by=ref('int_events_deduplicated')) }}",
    ],
    meta={
        'export': {
            'columns': [
                'user_id',
                "date_format(time_stamp, 'yyyy-MM-dd HH:mm:ss') as time_stamp",
                'url_level1',
                'url_level2',
                'url_level3',
                'activity',
            ],
            'order_by': ['time_stamp', 'user_id', 'url_level1', 'url_level2', 'url_level3', 'activity'],
            'partition_by': 'event_date',
        },
    },
) }}

with

events as (
    select * from {{ ref('int_events_deduplicated') }}
    where
        rejection_reason is null
        and {{ in_partitions('event_date', touched) }}
),

final as (
    select
        event_id,
        user_id,
        time_stamp,
        url_level1,
        url_level2,
        url_level3,
        activity,
        source_file,
        line_number,
        run_id,
        loaded_at,
        decided_in_run,
        event_date
    from events
)

select * from final
