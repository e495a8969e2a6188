{#-
    Condition on the raw source's `file_path` (a file URI): true for files not
    yet in {{ this }} (stg_web_events). The staged names are read at compile
    time and inlined (in_query_results), so Spark can skip the staged files
    while listing instead of reading them and filtering rows.
-#}
{% macro not_yet_staged(file_path_column) %}
    {{ return('not ' ~ in_query_results(file_path_column, 'select distinct source_file_uri from ' ~ this)) }}
{% endmacro %}
