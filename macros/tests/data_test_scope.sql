{#-
    Data tests on incremental runs read only the rows written since the last
    run in which every test of the model passed.

    A model opts in with `meta: {written_at_column: <column>}`: the column
    that changes whenever a row is written or changed (stg_web_events:
    `loaded_at`; the deduplicated events and the row-level marts:
    `decided_at`). After a run in which every data test attached to such a
    model passed, the on-run-end hook record_tested_through stores Spark's
    clock in the table property `web_events.tested_through`. With the var
    `data_tests_scope: new_rows` (scripts/pipeline.py sets it) a test then
    reads only the rows with `<column> > tested_through`.

    Rows of a run whose tests failed stay in scope, because the mark does not
    move until the model's tests all pass. A table without the property (just
    created or rebuilt by --full-refresh, or never fully tested) and the
    default `data_tests_scope: all` are tested whole. Uniqueness tests
    (unique, unique_combination_of_columns) compare the rows in scope with the
    whole table, so a new row that repeats an old key still fails.

    hrly_granular_activity has no such column and is tested whole: a group
    whose counts change because an event left it keeps its old `decided_at`.
    It is small (one row per hour, domain, path level and activity).
-#}

{#- The graph node of the model a generic test is attached to, or none. -#}
{% macro data_test_attached_model() %}
    {%- set attached = model.get('attached_node') if model is mapping else none -%}
    {%- if not execute or not attached or attached not in graph.nodes -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(graph.nodes[attached]) }}
{% endmacro %}

{#- Where the mark of data_test_scope_condition lives (a table property). -#}
{% macro tested_through_property() %}{{ return('web_events.tested_through') }}{% endmacro %}

{#- The `web_events.tested_through` property of `relation`, or none. -#}
{% macro tested_through(relation) %}
    {{ return(table_properties(relation).get(tested_through_property())) }}
{% endmacro %}

{#-
    The condition that limits the running data test to the rows not yet
    tested (`decided_at > timestamp'...'`), or none when it must read every
    row.
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
    {%- set column = node.config.meta.get('written_at_column') -%}
    {%- if not column -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(
        database=node.database, schema=node.schema, identifier=node.alias
    ) -%}
    {%- set mark = tested_through(relation) if relation is not none else none -%}
    {%- if mark is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(column ~ " > timestamp'" ~ mark ~ "'") }}
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

{#-
    On-run-end hook: for every model that declares `written_at_column` and
    whose data tests all ran and passed in this invocation, store Spark's
    clock as `web_events.tested_through`. Every row written so far was
    written before that instant and the rows of later runs after it.
-#}
{% macro record_tested_through(results) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {#- a warn-severity test that found rows has reported them: it passed its job -#}
    {%- set passed = [] -%}
    {%- for result in results if result.node.resource_type == 'test' and result.status in ['pass', 'warn'] -%}
        {%- do passed.append(result.node.unique_id) -%}
    {%- endfor -%}
    {#- a test with a `where` config reads part of the table: never proof for the rest -#}
    {%- set tests_of = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'test' and node.get('attached_node') -%}
        {%- do tests_of.setdefault(node.attached_node, []).append(
            'reads part of the table' if node.config.get('where') else node.unique_id
        ) -%}
    {%- endfor -%}
    {%- set clock = namespace(now=none) -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.meta.get('written_at_column') -%}
        {%- set tests = tests_of.get(node.unique_id, []) -%}
        {%- set relation = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.alias
        ) -%}
        {%- if tests and relation is not none and tests | reject('in', passed) | list | length == 0 -%}
            {%- if clock.now is none -%}
                {%- set clock.now = spark_now() -%}
            {%- endif -%}
            {%- do run_query(set_table_properties(relation, {tested_through_property(): clock.now})) -%}
            {{ log('data tests of ' ~ relation ~ ' all passed: scoped tests will read its rows written after ' ~ clock.now) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}
