{#-
    The days the latest run decided in `upstream` (int_events_deduplicated):
    the `event_date` of its rows whose `decided_in_run` is its newest
    (new events, late events for an old day, events displaced by an earlier
    duplicate). A list of 'yyyy-MM-dd' strings, or none on a full build (no
    filter: every day). Looked up before the model runs, so the days reach
    Spark as literals and it prunes partitions by them.

    Every run that finished left the marts and their exports complete (the
    run command rebuilds everything after one that did not), so the days the
    latest run decided are the only ones that can have changed. A run that
    decided nothing new recomputes the previous run's days, which changes
    nothing.
-#}
{% macro touched_partitions(upstream) %}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select distinct cast(event_date as string) as event_date
        from {{ upstream }}
        where decided_in_run = (select max(decided_in_run) from {{ upstream }})
        order by event_date
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{% endmacro %}
