-- daily_active_users against the tables it counts, day by day: `sessions` is
-- the sessions starting that day in user_sessions, `events` the rows of
-- user_activity that day, and the calendar has every day from the first to
-- the last day with an event, once. Returns the days that disagree.
with

days as (
    select
        activity_date,
        sessions,
        events
    from {{ ref('daily_active_users') }}
),

sessions as (
    select
        session_date,
        count(*) as sessions
    from {{ ref('user_sessions') }}
    group by session_date
),

events as (
    select
        event_date,
        count(*) as events
    from {{ ref('user_activity') }}
    group by event_date
),

calendar as (
    select explode(sequence(min(event_date), max(event_date))) as activity_date
    from {{ ref('user_activity') }}
),

compared as (
    select
        coalesce(
            days.activity_date, calendar.activity_date, sessions.session_date
        ) as activity_date,
        days.activity_date is not null as has_row,
        calendar.activity_date is not null as in_calendar,
        coalesce(days.sessions, 0) as sessions,
        coalesce(sessions.sessions, 0) as sessions_starting,
        coalesce(days.events, 0) as events,
        coalesce(events.events, 0) as events_that_day
    from days
    full outer join calendar on days.activity_date = calendar.activity_date
    full outer join sessions
        on coalesce(days.activity_date, calendar.activity_date) = sessions.session_date
    left join events
        on
            coalesce(days.activity_date, calendar.activity_date, sessions.session_date)
            = events.event_date
)

select * from compared
where
    has_row != in_calendar
    or sessions != sessions_starting
    or events != events_that_day
