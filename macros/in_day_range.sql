{#-
    `column between date'<first>' and date'<last>'` for a sorted list of
    consecutive days, `true` for none (a full build: every day), `false` for
    an empty list. A range reaches the metastore as two bounds: a long list of
    days (in_partitions) becomes one OR per day in the partition filter Spark
    sends the metastore, which fails on a few hundred.
-#}
{% macro in_day_range(column, days) -%}
    {%- if days is none -%}
        true
    {%- elif days | length == 0 -%}
        false
    {%- else -%}
        {{ column }} between date'{{ days[0] }}' and date'{{ days[-1] }}'
    {%- endif -%}
{%- endmacro %}
