{#-
    SPEC rule 8 on top of rules 1-7: every line ever staged with its final
    `rejection_reason` (NULL = accepted). Of the valid lines sharing an
    event_id, the one with the earliest event time is kept (ties: the smaller
    file path, then the earlier line; never the load order, so files arriving
    one by one give what a full rebuild gives); the others are
    `duplicate_event`.

    Incremental: a run decides only the lines staged since the last run. A
    new line competes with the events already accepted under its event_id, so
    an event_id accepted in an earlier file makes the new line a duplicate, and
    a new line with an earlier time displaces the accepted one (which becomes
    `duplicate_event`). `decided_in_run` records the run that last decided
    each row's reason; the marts recompute, test and export the days of the
    latest run's decisions.

    The line's text is not carried: it is the widest column and only the
    rejected lines need it (rejected_events takes it from stg_web_events), so
    the ranking shuffle and the day rewrites move narrow rows.

    Partitioned by day (`partition_date`: the event's UTC date, or the load
    date for lines without a valid time) and written with insert_overwrite:
    only the days a run can change are rewritten (never without
    partition_by, since this model reads itself: docs/spark-notes.md,
    "insert_overwrite of a model that reads itself"). The new files and those
    days are looked up before the run (in_query_results) and reach Spark as
    literals, so it reads only the new lines and the touched days of the
    table, and each of them once.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['partition_date'],
) }}

{%- set columns = [
    'source_file', 'line_number', 'run_id', 'loaded_at', 'event_id', 'user_id',
    'time_stamp', 'url_level1', 'url_level2', 'url_level3', 'activity',
] -%}
{%- set partition_date = 'coalesce(to_date(time_stamp), to_date(loaded_at))' -%}

{%- if is_incremental() %}
{#- the lines of the runs not decided yet (the staged runs newer than this
    table's newest), as literals so that Spark skips older staged files -#}
{%- set undecided_runs -%}
    select distinct staged.run_id
    from {{ ref('int_events_validated') }} as staged
    where staged.run_id > (select coalesce(max(decided.run_id), '') from {{ this }} as decided)
{%- endset %}
{%- set is_new_line = in_query_results('run_id', undecided_runs) %}
{#- the days this run can change: those of the new lines, and those of the
    events accepted earlier under an event_id that comes again -#}
{%- set touchable_days -%}
    select {{ partition_date }} as partition_date
    from {{ ref('int_events_validated') }}
    where {{ is_new_line }}
    union
    select earlier.partition_date
    from {{ this }} as earlier
    where
        earlier.rejection_reason is null
        and earlier.event_id in (
            select event_id
            from {{ ref('int_events_validated') }}
            where rejection_reason is null and {{ is_new_line }}
        )
{%- endset %}
{%- set in_touchable_days = in_query_results('partition_date', touchable_days, literal_prefix='date') %}
{%- endif %}

with

new_lines as (
    select
        {{ columns | join(',\n        ') }},
        rejection_reason,
        {{ partition_date }} as partition_date
    from {{ ref('int_events_validated') }}
    {%- if is_incremental() %}
    where {{ is_new_line }}
    {%- endif %}
),

candidates as (
    select
        *,
        true as is_new
    from new_lines
    {%- if is_incremental() %}

    union all

    -- events accepted by earlier runs under an event_id that comes again
    select
        {{ columns | join(',\n        ') }},
        rejection_reason,
        partition_date,
        false as is_new
    from {{ this }}
    where
        rejection_reason is null
        and {{ in_touchable_days }}
        and event_id in (
            select new_lines.event_id
            from new_lines
            where new_lines.rejection_reason is null
        )
    {%- endif %}
),

ranked as (
    -- rule 8 ranks the valid lines of each event_id; rejected lines keep their reason
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

changed as (
    -- new lines with their final reason, and earlier winners now displaced
    select
        {{ columns | join(',\n        ') }},
        coalesce(
            rejection_reason,
            case when event_id_rank > 1 then 'duplicate_event' end
        ) as rejection_reason,
        partition_date
    from ranked
    where is_new or event_id_rank > 1
),

decided as (
    select
        *,
        (select max(new_lines.run_id) from new_lines) as decided_in_run
    from changed
)
{%- if is_incremental() %},

unchanged_in_touched_days as (
    -- insert_overwrite rewrites whole days: carry over the rows that stay
    select
        {{ columns | join(',\n        ') }},
        earlier.rejection_reason,
        earlier.partition_date,
        earlier.decided_in_run
    from {{ this }} as earlier
    where
        {{ in_touchable_days }}
        and not exists (
            select 1
            from decided
            where
                decided.source_file = earlier.source_file
                and decided.line_number = earlier.line_number
        )
),

final as (
    select * from decided
    union all
    select * from unchanged_in_touched_days
)
{%- else %},

final as (
    select * from decided
)
{%- endif %}

select
    {{ columns | join(',\n    ') }},
    rejection_reason,
    decided_in_run,
    partition_date
from final
