{#-
    SPEC rule 8 on top of rules 1-7: every line ever staged with its final
    `rejection_reason` (NULL = accepted). Of the valid lines sharing an
    event_id, the one with the earliest event time is kept (ties: the smaller
    file path, then the earlier line; never the load order, so files arriving
    one by one give what a full rebuild gives); the others are
    `duplicate_event`.

    A run decides only the lines staged since the last run (all of them on a
    full build). A new line competes with the events already accepted under
    its event_id, so an event_id accepted in an earlier file makes the new
    line a duplicate, and a new line with an earlier time displaces the
    accepted one (which becomes `duplicate_event`). `decided_in_run` records
    the run that last decided each row's reason; the marts recompute, test and
    export the days of the latest run's decisions.

    The line's text is not carried: it is the widest column and only the
    rejected lines need it (rejected_events takes it from stg_web_events), so
    the ranking shuffle and the day rewrites move narrow rows.

    Partitioned by day (`event_date`: the event's UTC date, or the load date
    for lines without a valid time) and written with insert_overwrite: only
    the days a run can change are rewritten (never without partition_by,
    since this model reads itself: docs/spark-notes.md, "insert_overwrite of a
    model that reads itself"). What enters the chain below is decided in
    macros/rule_8_inputs.sql: on a full build every line and no earlier rows.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['event_date'],
) }}

{%- set columns = [
    'source_file', 'line_number', 'run_id', 'loaded_at', 'event_id', 'user_id',
    'time_stamp', 'url_level1', 'url_level2', 'url_level3', 'activity',
] -%}
{%- set is_new_line = is_undecided_line() -%}
{%- set in_days_this_run_can_change = is_day_this_run_can_change(is_new_line) -%}

with

new_lines as (
    select
        {{ columns | join(',\n        ') }},
        rejection_reason,
        {{ decided_line_date() }} as event_date
    from {{ ref('int_events_validated') }}
    where {{ is_new_line }}
),

decided_before as (
    -- the rows of the days this run can change, as earlier runs decided them
    select * from ({{ rows_decided_before(columns) }}) as earlier
    where {{ in_days_this_run_can_change }}
),

rivals as (
    -- events accepted earlier under an event_id that comes again
    select
        {{ columns | join(',\n        ') }},
        rejection_reason,
        event_date
    from decided_before
    where
        rejection_reason is null
        and event_id in (
            select new_lines.event_id
            from new_lines
            where new_lines.rejection_reason is null
        )
),

candidates as (
    select
        *,
        true as is_new
    from new_lines
    union all
    select
        *,
        false as is_new
    from rivals
),

rule_8 as (
    -- of the valid lines sharing an event_id, the earliest event wins;
    -- ties: the smaller file path, then the earlier line
    select
        *,
        case
            when rejection_reason is null
                then row_number() over (
                    partition by rejection_reason is null, event_id
                    order by time_stamp, source_file, line_number
                )
        end as event_id_rank
    from candidates
),

decided as (
    -- new lines with their final reason, and earlier winners now displaced
    select
        {{ columns | join(',\n        ') }},
        coalesce(
            rejection_reason,
            case when event_id_rank > 1 then 'duplicate_event' end
        ) as rejection_reason,
        (select max(new_lines.run_id) from new_lines) as decided_in_run,
        event_date
    from rule_8
    where is_new or event_id_rank > 1
),

carried_over as (
    -- insert_overwrite rewrites whole days: the rows of those days that stay
    select
        {{ columns | join(',\n        ') }},
        rejection_reason,
        decided_in_run,
        event_date
    from decided_before
    where
        not exists (
            select 1
            from decided
            where
                decided.source_file = decided_before.source_file
                and decided.line_number = decided_before.line_number
        )
),

final as (
    select * from decided
    union all
    select * from carried_over
)

select * from final
