{#-
    dbt's `unique` test on Spark: no two non-NULL values of `column_name`
    repeat. On a scoped run (data_test_scope.sql) only the values of the rows
    not yet tested are checked, each against the whole table.
-#}
{% macro spark__test_unique(model, column_name) %}
    {%- set scope = data_test_scope_condition() %}
    select
        tested.{{ column_name }} as unique_field,
        count(*) as n_records
    from (select * from {{ model }}) as tested
    {%- if scope is not none %}
    left semi join (
        select {{ column_name }}
        from (select * from {{ model }}) as scoped
        where {{ scope }}
    ) as new_keys
        on tested.{{ column_name }} = new_keys.{{ column_name }}
    {%- endif %}
    where tested.{{ column_name }} is not null
    group by tested.{{ column_name }}
    having count(*) > 1
{% endmacro %}
