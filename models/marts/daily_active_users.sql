{#-
    One row per UTC day from the first to the last day with an accepted event,
    days without events included (zeros) (SPEC "Sessions and active users"):
    active users, new users (first event ever that day), sessions starting
    that day, events, and the distinct users of the 7 (`wau`) and 28 (`mau`)
    days ending that day.

    `wau`/`mau` without a 28-fold fan-out: a user counts for 28 days from each
    active day, cut at the user's next active day, so the user's spans never
    overlap; +1 where a span starts, -1 where it ends, and a running sum over
    the calendar gives the distinct users of the window.

    Incremental: partitioned by day; a run recomputes one range of days,
    reading user_activity over the range and the 27 days before it (plus the
    users seen before those, who are not new), and user_sessions over the
    range. Which range, and why: active_user_days_to_rewrite. Its days are
    dropped first (pre-hook), so days the calendar loses disappear.
-#}
-- depends_on: {{ ref('int_events_deduplicated') }}
{%- set rewrite = active_user_days_to_rewrite() %}
{{ config(
    partition_by=['activity_date'],
    pre_hook="{{ drop_partitions('activity_date', active_user_days_to_rewrite().days) }}",
    post_hook=[
        "{{ export_csv() }}",
    ],
    meta={
        'export': {
            'columns': [
                "date_format(activity_date, 'yyyy-MM-dd') as activity_date",
                'active_users',
                'new_users',
                'sessions',
                'events',
                'wau',
                'mau',
            ],
            'order_by': ['activity_date'],
        },
    },
) }}

with

user_days as (
    -- who was active on which day, with how many events
    select
        user_id,
        event_date,
        count(*) as events
    from {{ ref('user_activity') }}
    where {{ rewrite.events_window }}
    group by user_id, event_date
),

earlier_users as (
    -- users with an event before the days read: none of them is new in the range
    select distinct user_id
    from {{ ref('user_activity') }}
    where {{ rewrite.before_window }}
),

bounds as (
    -- the days to write: the range, within the first and last day with an event
    select
        greatest(min(event_date), {{ rewrite.first_day }}) as first_day,
        least(max(event_date), {{ rewrite.last_day }}) as last_day
    from {{ ref('user_activity') }}
),

user_spans as (
    -- each active day starts a span of 7 (wau) and 28 (mau) days in which
    -- the user counts, cut at the user's next active day
    select
        event_date,
        lead(event_date) over (partition by user_id order by event_date) as next_active_day
    from user_days
),

span_edges as (
    select
        stack(
            3,
            event_date, 1, 1,
            least(date_add(event_date, 7), next_active_day), -1, 0,
            least(date_add(event_date, 28), next_active_day), 0, -1
        ) as (edge_date, wau_change, mau_change)
    from user_spans
),

daily_edges as (
    select
        edge_date,
        sum(wau_change) as wau_change,
        sum(mau_change) as mau_change
    from span_edges
    group by edge_date
),

calendar as (
    -- from 27 days before the first day to write: every span that reaches it
    select explode(sequence(date_sub(first_day, 27), last_day)) as activity_date
    from bounds
),

rolling as (
    select
        calendar.activity_date,
        sum(coalesce(daily_edges.wau_change, 0)) over (
            order by calendar.activity_date
            rows between unbounded preceding and current row
        ) as wau,
        sum(coalesce(daily_edges.mau_change, 0)) over (
            order by calendar.activity_date
            rows between unbounded preceding and current row
        ) as mau
    from calendar
    left join daily_edges on calendar.activity_date = daily_edges.edge_date
),

daily as (
    select
        event_date,
        count(*) as active_users,
        sum(events) as events
    from user_days
    group by event_date
),

first_days as (
    -- the first day of each user first seen in the days read
    select
        user_days.user_id,
        min(user_days.event_date) as first_day
    from user_days
    left anti join earlier_users on user_days.user_id = earlier_users.user_id
    group by user_days.user_id
),

new_users as (
    select
        first_day,
        count(*) as new_users
    from first_days
    group by first_day
),

sessions as (
    select
        session_date,
        count(*) as sessions
    from {{ ref('user_sessions') }}
    where {{ in_day_range('session_date', rewrite.days) }}
    group by session_date
),

final as (
    select
        rolling.activity_date,
        coalesce(daily.active_users, 0) as active_users,
        coalesce(new_users.new_users, 0) as new_users,
        coalesce(sessions.sessions, 0) as sessions,
        coalesce(daily.events, 0) as events,
        rolling.wau,
        rolling.mau
    from rolling
    cross join bounds
    left join daily on rolling.activity_date = daily.event_date
    left join new_users on rolling.activity_date = new_users.first_day
    left join sessions on rolling.activity_date = sessions.session_date
    where
        rolling.activity_date between bounds.first_day and bounds.last_day
        and {{ in_day_range('rolling.activity_date', rewrite.days) }}
)

select * from final
