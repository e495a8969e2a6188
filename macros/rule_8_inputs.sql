{#-
    The inputs of int_events_deduplicated (SPEC rule 8) that differ between a
    full build and an incremental run. The model reads the same chain of CTEs
    on every run; these macros say which rows enter it.

    The two look-ups run before the model (in_query_results) and reach Spark as
    literals, so it reads only the new lines and the touched days, each once.
-#}

{#- The day a decided line is filed under: its event's UTC date, or the day it
    was loaded when it has no valid event time. -#}
{% macro decided_line_date() -%}
    coalesce(to_date(time_stamp), to_date(loaded_at))
{%- endmacro %}

{#- Condition on int_events_validated: the lines staged by runs this table has
    not decided yet (runs newer than its newest); `true` on a full build. -#}
{% macro is_undecided_line() -%}
    {%- if is_incremental() -%}
        {%- set undecided_runs -%}
            select distinct staged.run_id
            from {{ ref('int_events_validated') }} as staged
            where staged.run_id > (select coalesce(max(decided.run_id), '') from {{ this }} as decided)
        {%- endset -%}
        {{ in_query_results('run_id', undecided_runs) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Condition on this table's `event_date`: the days this run can change (those
    of the new lines, and those of the events accepted earlier under an
    event_id that comes again); `true` on a full build. `is_new_line` is
    is_undecided_line()'s result, looked up once. -#}
{% macro is_day_this_run_can_change(is_new_line) -%}
    {%- if is_incremental() -%}
        {%- set days -%}
            select {{ decided_line_date() }} as event_date
            from {{ ref('int_events_validated') }}
            where {{ is_new_line }}
            union
            select earlier.event_date
            from {{ this }} as earlier
            where
                earlier.rejection_reason is null
                and earlier.event_id in (
                    select event_id
                    from {{ ref('int_events_validated') }}
                    where rejection_reason is null and {{ is_new_line }}
                )
        {%- endset -%}
        {{ in_query_results('event_date', days, literal_prefix='date') }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The rows earlier runs decided (this table); on a full build none, with the
    same columns and types. -#}
{% macro rows_decided_before(columns) -%}
    {%- if is_incremental() -%}
        select
            {{ columns | join(', ') }},
            rejection_reason,
            decided_in_run,
            event_date
        from {{ this }}
    {%- else -%}
        select
            {{ columns | join(', ') }},
            rejection_reason,
            run_id as decided_in_run,
            {{ decided_line_date() }} as event_date
        from {{ ref('int_events_validated') }}
        where false
    {%- endif -%}
{%- endmacro %}
