{#-
    Condition on the raw source's `file_path` (a file URI): true for files not
    yet in {{ this }} (stg_web_events). The staged names are read at compile
    time and inlined, so Spark can skip the staged files while listing
    instead of reading them and filtering rows.
-#}
{% macro not_yet_staged(file_path_column) %}
    {%- if not execute -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set staged = run_query('select distinct source_file_uri from ' ~ this).columns[0].values() | list -%}
    {{ return('not ' ~ in_list(file_path_column, staged)) }}
{% endmacro %}
