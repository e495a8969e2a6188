{#- `column in (<touched partitions>)`, or always true on a full build. -#}
{% macro in_partitions(column, partitions) -%}
    {%- if partitions is none -%}
        true
    {%- else -%}
        {{ in_list(column, partitions, literal_prefix='date') }}
    {%- endif -%}
{%- endmacro %}
