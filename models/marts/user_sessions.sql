{#-
    One row per session (SPEC "Sessions and active users"): a maximal run of
    one user's accepted events, ordered by time_stamp then event_id, in which
    each event comes at most `session_timeout_minutes` (default 30) after the
    one before. A gap of exactly the timeout stays in the session; a longer
    one starts the next.

    One pass over user_activity: `lag` finds each event's gap to the user's
    previous event, a running count of the gaps wider than the timeout numbers
    the user's sessions, and a group by session folds them. The landing and
    exit pages are those of the event with the smallest and largest
    (time_stamp, event_id) (`min_by`/`max_by`, which keep a NULL url_level2):
    no self-join, no second sort.

    Incremental: partitioned by the session's start day (`session_date`). A
    run rewrites only the start days whose sessions the latest run's decisions
    can change (a late event can merge two sessions or extend one across
    midnight; a displaced event can remove one), recomputing each of those
    days whole, for every user, from the user_activity days its sessions span.
    Which days, and why that equals a full rebuild: session_days_to_rewrite.
    Those days are dropped first (pre-hook), so a day left without a session
    start disappears. `written_in_run` is the run that wrote the row.
-#}
{%- set rewrite = session_days_to_rewrite() -%}
{%- set timeout_seconds = var('session_timeout_minutes') * 60 -%}
{{ config(
    partition_by=['session_date'],
    pre_hook="{{ drop_partitions('session_date', session_days_to_rewrite().days) }}",
    post_hook=[
        "{{ export_csv() }}",
    ],
    meta={
        'export': {
            'columns': [
                'session_id',
                'user_id',
                "date_format(session_start, 'yyyy-MM-dd HH:mm:ss') as session_start",
                "date_format(session_end, 'yyyy-MM-dd HH:mm:ss') as session_end",
                'duration_seconds',
                'event_count',
                'page_view_count',
                'landing_url_level1',
                'landing_url_level2',
                'exit_url_level1',
                'exit_url_level2',
            ],
            'order_by': ['session_start', 'user_id'],
        },
    },
) }}

with

events as (
    select
        event_id,
        user_id,
        time_stamp,
        url_level1,
        url_level2,
        activity
    from {{ ref('user_activity') }}
    where {{ rewrite.events_window }}
),

gaps as (
    -- an event starts a session when it is the user's first, or comes more
    -- than the timeout after the user's previous event
    select
        *,
        coalesce(
            unix_seconds(time_stamp) - unix_seconds(
                lag(time_stamp) over (partition by user_id order by time_stamp, event_id)
            ) > {{ timeout_seconds }},
            true
        ) as starts_session
    from events
),

numbered as (
    select
        *,
        count_if(starts_session) over (
            partition by user_id
            order by time_stamp, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from gaps
),

sessions as (
    select
        user_id,
        min(time_stamp) as session_start,
        max(time_stamp) as session_end,
        count(*) as event_count,
        count_if(activity = 'page_view') as page_view_count,
        min_by(url_level1, struct(time_stamp, event_id)) as landing_url_level1,
        min_by(url_level2, struct(time_stamp, event_id)) as landing_url_level2,
        max_by(url_level1, struct(time_stamp, event_id)) as exit_url_level1,
        max_by(url_level2, struct(time_stamp, event_id)) as exit_url_level2
    from numbered
    group by user_id, session_number
),

latest_run as (
    -- the run that writes the rows
    select max(decided_in_run) as written_in_run
    from {{ ref('int_events_deduplicated') }}
),

final as (
    select
        concat(
            sessions.user_id, '-', date_format(sessions.session_start, 'yyyyMMddHHmmss')
        ) as session_id,
        sessions.user_id,
        sessions.session_start,
        sessions.session_end,
        cast(
            unix_seconds(sessions.session_end) - unix_seconds(sessions.session_start) as int
        ) as duration_seconds,
        sessions.event_count,
        sessions.page_view_count,
        sessions.landing_url_level1,
        sessions.landing_url_level2,
        sessions.exit_url_level1,
        sessions.exit_url_level2,
        latest_run.written_in_run,
        to_date(sessions.session_start) as session_date
    from sessions
    cross join latest_run
),

rewritten as (
    -- the start days this run rewrites (every day on a full build)
    select * from final
    where {{ rewrite.in_days }}
)

select * from rewritten
