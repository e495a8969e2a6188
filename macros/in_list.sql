{#-
    `column in ('a', 'b', ...)` with the values as quoted SQL literals
    (`literal_prefix` makes typed literals, e.g. 'date' gives date'2017-02-02');
    `false` for an empty list. Values read at compile time reach Spark as
    literals this way, so it can prune files and partitions by them.
-#}
{% macro in_list(column, values, literal_prefix='') -%}
    {%- if values | length == 0 -%}
        false
    {%- else -%}
        {{ column }} in (
        {%- for value in values -%}
            {{ literal_prefix }}{{ sql_string(value) }}{{ ", " if not loop.last }}
        {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}

{#-
    `column in (<the values `query` returns>)`. The query runs at compile time
    and its values reach Spark as literals (in_list): Spark prunes partitions
    and files by them, and a condition used in several places of a model does
    not re-run its query in each. In a dbt unit test the model's inputs are
    CTEs of the test's own query and cannot be queried apart from it, so there
    Spark evaluates the same query, as a scalar subquery: an IN subquery would
    become a join, and a handful of them nested makes Spark's optimizer take
    minutes over a few fixture rows.
-#}
{% macro in_query_results(column, query, literal_prefix='') -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        array_contains(
            (select collect_set(query_results.value) from ({{ query }}) as query_results (value)),
            {{ column }}
        )
    {%- else -%}
        {{ in_list(column, run_query(query).columns[0].values() | list, literal_prefix) }}
    {%- endif -%}
{%- endmacro %}
