{#-
    What an incremental run of user_sessions rewrites: the session-start days
    (`session_date`) whose sessions the latest run's decisions can change, and
    how far the events of those sessions reach. A dict:
      days          the days as 'yyyy-MM-dd' strings (none on a full build:
                    every day)
      in_days       SQL: `session_date` is one of them (literals, so Spark
                    prunes by them; `true` on a full build)
      events_window SQL: the user_activity days to read to sessionize them
                    (`true` on a full build, and in unit tests, which read
                    every fixture row)

    The latest run changed the events whose int_events_deduplicated rows it
    decided (accepted, or displaced as `duplicate_event`). For each user with
    such an event, between `first_change` and `last_change`:
    - an old session that ends more than the timeout before `first_change`,
      or starts more than the timeout after `last_change`, is unchanged: the
      gaps that bound it are the same, or wider;
    - every other old session of the user is "reached": its start day is
      rewritten, and the user's sessions over the span from the earliest
      reached start (or `first_change`) to the latest reached end (or
      `last_change`) are sessionized again from user_activity. The span
      starts and ends at a gap wider than the timeout, so sessionizing its
      events alone gives the sessions a full rebuild gives.
    The days to rewrite are the start days of the reached sessions and the
    days of the user's events in the span (every new session starts at one).
    A rewritten day is recomputed whole, every user's sessions that start on
    it, from user_activity: a session starting on one of those days needs its
    events from the timeout before the first day (is an event a start?) to
    the latest end among the reached spans and the other users' old sessions
    that start on those days (unchanged, but they can run past midnight, past
    the last rewritten day).
-#}
{% macro session_days_to_rewrite() %}
    {%- if not is_incremental() -%}
        {{ return({'days': none, 'in_days': 'true', 'events_window': 'true'}) }}
    {%- endif -%}
    {%- set timeout = 'interval ' ~ var('session_timeout_minutes') ~ ' minutes' -%}
    {%- set decided = ref('int_events_deduplicated') -%}
    {%- set reach_query -%}
        with

        changes as (
            select
                user_id,
                min(time_stamp) as first_change,
                max(time_stamp) as last_change
            from {{ decided }}
            where
                decided_in_run = (select max(latest.decided_in_run) from {{ decided }} as latest)
                and (rejection_reason is null or rejection_reason = 'duplicate_event')
            group by user_id
        ),

        reached as (
            select
                earlier.user_id,
                earlier.session_date,
                earlier.session_start,
                earlier.session_end
            from {{ this }} as earlier
            inner join changes
                on
                    earlier.user_id = changes.user_id
                    and earlier.session_end >= changes.first_change - {{ timeout }}
                    and earlier.session_start <= changes.last_change + {{ timeout }}
        ),

        spans as (
            select
                changes.user_id,
                least(changes.first_change, min(reached.session_start)) as span_start,
                greatest(changes.last_change, max(reached.session_end)) as span_end
            from changes
            left join reached on changes.user_id = reached.user_id
            group by changes.user_id, changes.first_change, changes.last_change
        ),

        days as (
            select
                reached.session_date as session_date,
                to_date(reached.session_end) as last_event_date
            from reached

            union

            select
                events.event_date as session_date,
                events.event_date as last_event_date
            from {{ ref('user_activity') }} as events
            inner join spans
                on
                    events.user_id = spans.user_id
                    and events.time_stamp between spans.span_start and spans.span_end
            where events.event_date >= (select to_date(min(spans.span_start)) from spans)
        )

        select * from days

        union

        -- the other users' sessions that start on those days are unchanged, and
        -- their events are read again up to their old end (past midnight, too)
        select
            earlier.session_date,
            to_date(earlier.session_end) as last_event_date
        from {{ this }} as earlier
        where earlier.session_date in (select days.session_date from days)
    {%- endset -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {%- set days_query = 'select session_date from (' ~ reach_query ~ ') as reach' -%}
        {{ return({
            'days': none,
            'in_days': in_query_results('session_date', days_query, literal_prefix='date'),
            'events_window': 'true',
        }) }}
    {%- endif -%}
    {%- set days = [] -%}
    {%- set reach = namespace(last_event_date='') -%}
    {%- for row in run_query(reach_query).rows -%}
        {%- if (row[0] | string) not in days -%}
            {%- do days.append(row[0] | string) -%}
        {%- endif -%}
        {%- if (row[1] | string) > reach.last_event_date -%}
            {%- set reach.last_event_date = row[1] | string -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if days | length == 0 -%}
        {{ return({'days': [], 'in_days': 'false', 'events_window': 'false'}) }}
    {%- endif -%}
    {%- set days = days | sort -%}
    {#- the events a timeout before the first day: is an event there a session start? -#}
    {%- set window_start = (
        modules.datetime.datetime.strptime(days[0], '%Y-%m-%d')
        - modules.datetime.timedelta(minutes=var('session_timeout_minutes'))
    ).strftime('%Y-%m-%d') -%}
    {{ return({
        'days': days,
        'in_days': in_list('session_date', days, literal_prefix='date'),
        'events_window': "event_date between date'" ~ window_start
            ~ "' and date'" ~ reach.last_event_date ~ "'",
    }) }}
{% endmacro %}
