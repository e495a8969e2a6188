{#-
    The partitions of `upstream` (int_events_deduplicated) that changed since
    the model being built last saw it: the `partition_date` values of rows
    decided after `since` (a timestamp string), by default the model's mark
    `web_events.decided_through` (record_decided_through), else the newest
    `decided_at` already in {{ this }}. Returns a list of 'yyyy-MM-dd'
    strings, or none on a full build (no filter: every partition). Called at
    compile time, so the partition list reaches the SQL as literals and Spark
    prunes partitions by them; the mark reaches it as a literal too, so the
    Parquet row groups of days not rewritten since are skipped by their
    min/max statistics instead of read.

    Recomputing a partition is idempotent, so a run that changes nothing in
    a mart (its high-water mark then stays put) only costs a re-check of the
    same partitions next time.
-#}
{% macro touched_partitions(upstream, since=none) %}
    {%- if not execute or (since is none and not is_incremental()) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if since is none -%}
        {%- set since = table_properties(this).get(decided_through_property()) -%}
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

{#- Where record_decided_through keeps a mart's mark (a table property). -#}
{% macro decided_through_property() %}{{ return('web_events.decided_through') }}{% endmacro %}

{#-
    Post-hook of the marts that use touched_partitions: stores Spark's clock as
    the table property `web_events.decided_through`. The upstream model ran
    before this one, so every row it decided so far was decided before this
    instant and those of later runs after it: the next run's
    touched_partitions compares with it. Post-hooks run only after a
    successful build, so a failed build leaves the mark, and its days are
    recomputed next time.
-#}
{% macro record_decided_through() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set now = spark_now() -%}
    {{ return(set_table_properties(this, {decided_through_property(): now})) }}
{% endmacro %}
