{#-
    Data tests on incremental runs read only the rows the latest run wrote.

    A model opts in with `meta: {written_in_run_column: <column>}`: the
    column that names the run that wrote or last changed a row (stg_web_events:
    `run_id`, the run that read the line; the deduplicated events and the
    row-level marts: `decided_in_run`). With the var `data_tests_scope:
    new_rows` (scripts/pipeline.py sets it) a test then reads only the rows
    whose column holds the table's newest run.

    That is enough because every earlier run's rows were tested by that run,
    and a run whose tests failed did not finish: the run command rebuilds
    every table after it, and the rebuilt tables are tested whole (all their
    rows carry one run). The default `data_tests_scope: all` tests whole
    tables. Uniqueness tests (unique, unique_combination_of_columns) compare
    the rows in scope with the whole table, so a new row that repeats an old
    key still fails.

    hrly_granular_activity has no such column and is tested whole: a group
    whose counts change because an event left it keeps its old
    `decided_in_run`. It is small (one row per hour, domain, path level and
    activity).
-#}

{#- The graph node of the model a generic test is attached to, or none. -#}
{% macro data_test_attached_model() %}
    {%- set attached = model.get('attached_node') if model is mapping else none -%}
    {%- if not execute or not attached or attached not in graph.nodes -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(graph.nodes[attached]) }}
{% endmacro %}

{#-
    The condition that limits the running data test to the rows the latest
    run wrote (`decided_in_run = (select max(decided_in_run) from ...)`), or
    none when it must read every row.
-#}
{% macro data_test_scope_condition() %}
    {%- if var('data_tests_scope', 'all') not in ['all', 'new_rows'] -%}
        {{ exceptions.raise_compiler_error(
            "var data_tests_scope must be 'all' or 'new_rows', not '" ~ var('data_tests_scope') ~ "'"
        ) }}
    {%- endif -%}
    {%- set node = data_test_attached_model() -%}
    {%- if node is none or var('data_tests_scope', 'all') != 'new_rows' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set column = node.config.meta.get('written_in_run_column') -%}
    {%- if not column -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = api.Relation.create(
        database=node.database, schema=node.schema, identifier=node.alias, type='table'
    ) -%}
    {{ return(column ~ ' = (select max(' ~ column ~ ') from ' ~ relation ~ ')') }}
{% endmacro %}

{#-
    What a generic test reads as its `model`: the table, cut to the test's
    `where` config and, for row-level tests, to the rows not yet tested.
    Uniqueness tests get the whole table and scope themselves.
-#}
{% macro spark__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') if model is mapping else none -%}
    {%- if test_name not in ['unique', 'unique_combination_of_columns'] -%}
        {%- set scope = data_test_scope_condition() -%}
        {%- if scope is not none -%}
            {%- do conditions.append(scope) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
