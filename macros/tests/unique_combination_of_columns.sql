{#-
    Generic test: no two rows share the same values in `combination_of_columns`
    (NULLs compare equal, as in GROUP BY). The key test for tables whose grain
    is several columns. Written here because `dbt deps` cannot reach the
    package hub for dbt_utils.

    On a scoped run (data_test_scope.sql) only the keys of the rows not yet
    tested are checked, each against the whole table.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set scope = data_test_scope_condition() %}
    select
        {%- for column in combination_of_columns %}
        tested.{{ column }},
        {%- endfor %}
        count(*) as rows_with_this_key
    from (select * from {{ model }}) as tested
    {%- if scope is not none %}
    left semi join (
        select {{ combination_of_columns | join(', ') }}
        from (select * from {{ model }}) as scoped
        where {{ scope }}
    ) as new_keys
        on
        {%- for column in combination_of_columns %}
            {{ "and " if not loop.first }}tested.{{ column }} <=> new_keys.{{ column }}
        {%- endfor %}
    {%- endif %}
    group by
        {%- for column in combination_of_columns %}
        tested.{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    having count(*) > 1
{% endtest %}
