{#-
    The partitions of `upstream` (int_events_deduplicated) that changed since
    the model being built last saw it: the `partition_date` values of rows
    decided after the newest `decided_at` already in {{ this }}, or after
    `since` (a timestamp string) when given. Returns a list of 'yyyy-MM-dd'
    strings, or none on a full build (no filter: every partition). Called at
    compile time, so the partition list reaches the SQL as literals and Spark
    prunes partitions by them.

    Recomputing a partition is idempotent, so a run that changes nothing in
    a mart (its high-water mark then stays put) only costs a re-check of the
    same partitions next time.
-#}
{% macro touched_partitions(upstream, since=none) %}
    {%- if not execute or (since is none and not is_incremental()) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if since is none -%}
        {%- set since_sql -%}
            (select coalesce(max(decided_at), timestamp'1900-01-01 00:00:00') from {{ this }})
        {%- endset -%}
    {%- else -%}
        {%- set since_sql = "timestamp'" ~ since ~ "'" -%}
    {%- endif -%}
    {%- set query -%}
        select distinct cast(partition_date as string) as partition_date
        from {{ upstream }}
        where decided_at > {{ since_sql }}
        order by partition_date
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{% endmacro %}
