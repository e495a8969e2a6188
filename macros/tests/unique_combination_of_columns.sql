{#-
    Generic test: no two rows share the same values in `combination_of_columns`
    (NULLs compare equal, as in GROUP BY). The key test for tables whose grain
    is several columns. Written here because `dbt deps` cannot reach the
    package hub for dbt_utils.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as rows_with_this_key
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
