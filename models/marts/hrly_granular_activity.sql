{#-
    Events and distinct users per UTC hour, domain, first path level and
    activity (SPEC). `time_bucket` is text `yyyyMMddHH`.

    Incremental: partitioned by day; a run recounts only the days in which
    int_events_deduplicated changed, from user_activity (already updated in
    the same run). `decided_in_run` is the newest decision counted in the row.
-#}
{%- set touched = touched_partitions(ref('int_events_deduplicated')) -%}
{{ config(
    partition_by=['event_date'],
    pre_hook="{{ drop_partitions('event_date', touched_partitions(ref('int_events_deduplicated'))) }}",
    post_hook=[
        "{{ export_csv() }}",
    ],
    meta={
        'export': {
            'columns': ['time_bucket', 'url_level1', 'url_level2', 'activity', 'activity_count', 'user_count'],
            'order_by': ['time_bucket', 'url_level1', 'url_level2', 'activity'],
        },
    },
) }}

with

user_activity as (
    select * from {{ ref('user_activity') }}
    where {{ in_partitions('event_date', touched) }}
),

hourly as (
    select
        date_format(time_stamp, 'yyyyMMddHH') as time_bucket,
        url_level1,
        url_level2,
        activity,
        count(*) as activity_count,
        count(distinct user_id) as user_count,
        max(decided_in_run) as decided_in_run,
        event_date
    from user_activity
    group by date_format(time_stamp, 'yyyyMMddHH'), url_level1, url_level2, activity, event_date
)

select * from hourly
