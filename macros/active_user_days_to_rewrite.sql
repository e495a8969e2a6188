{#-
    What an incremental run of daily_active_users rewrites: one range of days
    [first, last], recomputed whole. A dict:
      days            every day of the range as 'yyyy-MM-dd' (none on a full
                      build: every day; empty when nothing changed)
      first_day       SQL date of the range's first day (NULL on a full build:
      last_day        no bound) and of its last day
      events_window   SQL: the user_activity days to read (the range and the
                      27 days before it, for `mau`; `true` on a full build)
      before_window   SQL: the user_activity days before that window (their
                      users are not new in the range; `false` on a full build)
      in_days         SQL: `activity_date` is in the range (`true` on a full
                      build)

    The latest run changed the events whose int_events_deduplicated rows it
    decided (accepted, or displaced as `duplicate_event`), on the days C:
    - `active_users` and `events` change only on C;
    - `wau` and `mau` count the users of the 7 and 28 days ending on a day,
      so they change only on C and the 27 days after each;
    - `sessions` changes only where a session start appears or disappears,
      which is at most the timeout after a changed event: in C or the day
      after (a timeout under 27 days);
    - `new_users` changes on the first day of a user with a changed event,
      before and after the run: that user's first day now, and the first day
      of its events decided by earlier runs (an event displaced from its old
      first day is in C);
    - the calendar grows: new days after the old last day (their gap with
      zeros) or before the old first day.
    So the range is [min(C, old last day + 1), max(C + 27, those first days,
    old first day - 1)], cut to the days with events when written.
-#}
{% macro active_user_days_to_rewrite() %}
    {%- if not is_incremental() -%}
        {{ return({
            'days': none,
            'first_day': 'cast(null as date)',
            'last_day': 'cast(null as date)',
            'events_window': 'true',
            'before_window': 'false',
            'in_days': 'true',
        }) }}
    {%- endif -%}
    {%- set decided = ref('int_events_deduplicated') -%}
    {%- set range_query -%}
        with

        changed as (
            select
                user_id,
                to_date(time_stamp) as event_date
            from {{ decided }}
            where
                decided_in_run = (select max(latest.decided_in_run) from {{ decided }} as latest)
                and (rejection_reason is null or rejection_reason = 'duplicate_event')
        ),

        first_days as (
            select
                min(events.event_date) as first_day_now,
                min(events.event_date) filter (
                    where events.decided_in_run < (select max(latest.decided_in_run) from {{ decided }} as latest)
                ) as first_day_before
            from {{ ref('user_activity') }} as events
            left semi join changed on events.user_id = changed.user_id
            group by events.user_id
        )

        select
            (select min(changed.event_date) from changed) as first_changed_day,
            least(
                (select min(changed.event_date) from changed),
                (select date_add(max(earlier.activity_date), 1) from {{ this }} as earlier)
            ) as first_day,
            greatest(
                (select date_add(max(changed.event_date), 27) from changed),
                (select max(first_days.first_day_now) from first_days),
                (select max(first_days.first_day_before) from first_days),
                (select date_sub(min(earlier.activity_date), 1) from {{ this }} as earlier)
            ) as last_day
    {%- endset -%}
    {%- set days = [] -%}
    {%- if execute -%}
        {%- set bounds = run_query(range_query).rows[0] -%}
        {%- if bounds[0] is not none -%}
            {%- set day = namespace(value=modules.datetime.datetime.strptime(bounds[1] | string, '%Y-%m-%d')) -%}
            {%- set last = modules.datetime.datetime.strptime(bounds[2] | string, '%Y-%m-%d') -%}
            {%- for _ in range(((last - day.value).days + 1) if last >= day.value else 0) -%}
                {%- do days.append(day.value.strftime('%Y-%m-%d')) -%}
                {%- set day.value = day.value + modules.datetime.timedelta(days=1) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {%- if days | length == 0 -%}
        {{ return({
            'days': [],
            'first_day': 'cast(null as date)',
            'last_day': 'cast(null as date)',
            'events_window': 'false',
            'before_window': 'false',
            'in_days': 'false',
        }) }}
    {%- endif -%}
    {%- set window_start = (
        modules.datetime.datetime.strptime(days[0], '%Y-%m-%d') - modules.datetime.timedelta(days=27)
    ).strftime('%Y-%m-%d') -%}
    {{ return({
        'days': days,
        'first_day': "date'" ~ days[0] ~ "'",
        'last_day': "date'" ~ days[-1] ~ "'",
        'events_window': "event_date between date'" ~ window_start ~ "' and date'" ~ days[-1] ~ "'",
        'before_window': "event_date < date'" ~ window_start ~ "'",
        'in_days': in_list('activity_date', days, literal_prefix='date'),
    }) }}
{% endmacro %}
