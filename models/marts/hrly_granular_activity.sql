{#-
    Events and distinct users per UTC hour, domain, first path level and
    activity (SPEC). `time_bucket` is text `yyyyMMddHH`.
-#}
{{ config(
    post_hook=export_csv(
        columns=['time_bucket', 'url_level1', 'url_level2', 'activity', 'activity_count', 'user_count'],
        order_by=['time_bucket', 'url_level1', 'url_level2', 'activity'],
    )
) }}

with

user_activity as (
    select * from {{ ref('user_activity') }}
),

hourly as (
    select
        date_format(time_stamp, 'yyyyMMddHH') as time_bucket,
        url_level1,
        url_level2,
        activity,
        count(*) as activity_count,
        count(distinct user_id) as user_count
    from user_activity
    group by date_format(time_stamp, 'yyyyMMddHH'), url_level1, url_level2, activity
)

select * from hourly
