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
            {{ literal_prefix }}'{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'{{ ", " if not loop.last }}
        {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}
