{#-
    The table properties (`show tblproperties`) of `relation` as a dict of
    strings. The project keeps two marks there, under `web_events.`: how far
    a model's data tests have read (data_test_scope.sql), how far a mart has
    decided its days (touched_partitions.sql) and how far a partitioned CSV
    export is up to date (export_csv.sql).
-#}
{% macro table_properties(relation) %}
    {%- set properties = {} -%}
    {%- for row in run_query('show tblproperties ' ~ relation).rows -%}
        {%- do properties.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {{ return(properties) }}
{% endmacro %}

{#- `alter table ... set tblproperties` for a dict of strings. -#}
{% macro set_table_properties(relation, properties) -%}
    alter table {{ relation }} set tblproperties (
    {%- for key, value in properties.items() -%}
        {{ sql_string(key) }} = {{ sql_string(value) }}{{ ", " if not loop.last }}
    {%- endfor -%}
    )
{%- endmacro %}

{#-
    Spark's clock now, as the text a mark stores. Marks are compared with
    timestamps Spark wrote (`loaded_at`, `decided_at`), so they come from
    Spark's clock, never from the machine running dbt.
-#}
{% macro spark_now() %}
    {{ return(run_query('select cast(current_timestamp() as string)').columns[0].values()[0]) }}
{% endmacro %}
