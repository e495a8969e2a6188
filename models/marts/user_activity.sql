{#-
    One row per accepted event: who did what, when, where (SPEC).
    `event_id` is the key; the CSV export carries SPEC's six columns.
-#}
{{ config(
    post_hook=export_csv(
        columns=[
            'user_id',
            "date_format(time_stamp, 'yyyy-MM-dd HH:mm:ss') as time_stamp",
            'url_level1',
            'url_level2',
            'url_level3',
            'activity',
        ],
        order_by=['time_stamp', 'user_id', 'url_level1', 'url_level2', 'url_level3', 'activity'],
    )
) }}

with

events as (
    select * from {{ ref('int_events_deduplicated') }}
    where rejection_reason is null
),

final as (
    select
        event_id,
        user_id,
        time_stamp,
        url_level1,
        url_level2,
        url_level3,
        activity
    from events
)

select * from final
