{#-
    Generic test: no two rows share the same values in `combination_of_columns`
    (NULLs compare equal, as in GROUP BY). The key test for tables whose grain
    is several columns. Written here because `dbt deps` cannot reach the
    package hub for dbt_utils.

    `rows_to_check` (a SQL condition, default every row) limits the keys
    checked to those of the rows it selects, each checked against the whole
    table, so that a new row repeating an old key still fails (make run checks
    the keys of the newest run's rows; see the model's YAML).
-#}
{% test unique_combination_of_columns(model, combination_of_columns, rows_to_check='true') %}
    select
        {%- for column in combination_of_columns %}
        tested.{{ column }},
        {%- endfor %}
        count(*) as rows_with_this_key
    from {{ model }} as tested
    {%- if rows_to_check | trim != 'true' %}
    left semi join (
        select {{ combination_of_columns | join(', ') }}
        from {{ model }}
        where {{ rows_to_check }}
    ) as keys_to_check
        on
        {%- for column in combination_of_columns %}
            {{ "and " if not loop.first }}tested.{{ column }} <=> keys_to_check.{{ column }}
        {%- endfor %}
    {%- endif %}
    group by
        {%- for column in combination_of_columns %}
        tested.{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    having count(*) > 1
{% endtest %}
