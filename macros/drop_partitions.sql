{#-
    Pre-hook of the partitioned marts: drops the partitions about to be
    recomputed, so that a day whose every event was displaced by an earlier
    duplicate disappears instead of keeping stale rows (a dynamic partition
    overwrite only replaces the partitions it writes).
-#}
{% macro drop_partitions(column, partitions) -%}
    {%- if partitions and load_relation(this) is not none -%}
        alter table {{ this }} drop if exists
        {% for p in partitions %}partition ({{ column }} = {{ sql_string(p) }}){{ ", " if not loop.last }}{% endfor %}
    {%- else -%}
        select 1 as nothing_to_drop
    {%- endif -%}
{%- endmacro %}
