{#-
    The raw source, re-pointed at `events_path` on every invocation (an
    on-run-start hook). Two objects, both metadata only (no data is copied):

    - `raw_event_files`: an external text table over the files; one row per
      line, blank lines included. Dropping it never deletes the files.
    - `raw_event_lines` (the dbt source): a view over it that adds where each
      line comes from, which Spark only exposes as the hidden `_metadata`
      column of a file table. Staging reads plain columns, so its rules can be
      unit tested with fixture rows. `file_modification_time` is what
      `dbt source freshness` measures.

    Re-creating them each run means a changed `events_path`, or new files in
    the folder, are always seen, also by a long-lived Thrift server.

    A catalog table over a missing file would just read as empty, so the path
    is checked first by resolving (not reading) it as Spark's file source: a
    file, folder or glob that matches nothing fails the run here, naming it:
    `[PATH_NOT_FOUND] Path does not exist: <path>`.
-#}
{% macro create_raw_events_table() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set lines = source('web_events', 'raw_event_lines') -%}
    {%- set files = raw_event_files_relation() -%}
    {%- set events_path = resolve_path(var('events_path')) -%}
    {%- do log('web_events: reading events from ' ~ events_path, info=true) -%}
    {%- call statement('check_events_path') -%}
        describe query select * from text.`{{ events_path | replace('`', '``') }}`
    {%- endcall -%}
    {%- call statement('create_raw_events_schema') -%}
        create schema if not exists {{ lines.schema }}
    {%- endcall -%}
    {%- set listing = source('web_events', 'file_listing') -%}
    {%- set listing_path = resolve_path(var('file_listing_path') or '.run/' ~ target.name ~ '-' ~ target.schema ~ '/listing.json') -%}
    {%- for relation in [lines, files, listing] -%}
        {%- set existing = adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
        {%- if existing is not none -%}
            {%- do adapter.drop_relation(existing) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- call statement('create_raw_event_files') -%}
        create table {{ files }} (value string)
        using text
        options (path {{ sql_string(events_path) }})
    {%- endcall -%}
    {%- call statement('create_raw_event_lines') -%}
        create view {{ lines }} as
        {{ raw_event_lines_sql(files) }}
    {%- endcall -%}
    {#- a missing listing reads as empty: nothing is read, nothing removed -#}
    {%- call statement('create_file_listing') -%}
        create table {{ listing }} (
            run_id string,
            events_path string,
            file_path string,
            size_bytes bigint,
            modified_at string,
            fingerprint string,
            line_count bigint,
            last_line_complete boolean,
            prefix_bytes bigint,
            prefix_fingerprint string,
            non_blank_lines bigint
        )
        using json
        options (path {{ sql_string(listing_path) }})
    {%- endcall -%}
    {{ return('') }}
{% endmacro %}

{#-
    The select behind the `raw_event_lines` view, with an optional `where`
    on the files table's own columns (`_metadata.file_path`). Staging and the
    line-count test call it directly with their file filter: a filter on the
    view would sit above monotonically_increasing_id() (nondeterministic),
    which stops Spark from pushing it into the file listing, so every file
    would be read to keep a few. Here WHERE applies before the id is taken.
-#}
{% macro raw_event_lines_sql(files_relation, where=none) %}
    select
        value as line,
        _metadata.file_path as file_path,
        _metadata.file_block_start as file_block_start,
        -- when the file last changed: the source's freshness (_sources.yml)
        _metadata.file_modification_time as file_modification_time,
        -- increases line by line within one file block (see stg_web_events)
        monotonically_increasing_id() as row_id
    from {{ files_relation }}
    {%- if where is not none %}
    where {{ where }}
    {%- endif %}
{% endmacro %}

{#-
    The raw lines of the files that `files_query` names (file paths as
    file_path_of_uri gives them), filtered where Spark prunes its listing by
    name: the names are looked up before the model runs (in_query_results),
    so no other file is read. dbt sees the source `raw_event_lines` as the
    model's input (at parse time, and in unit tests, where fixtures stand in
    for it); the run reads the files table under it.
-#}
{% macro raw_event_lines_of_files(files_query) %}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        (
            select * from {{ source('web_events', 'raw_event_lines') }}
            where {{ in_query_results(file_path_of_uri('file_path'), files_query) }}
        )
    {%- else -%}
        ({{ raw_event_lines_sql(
            raw_event_files_relation(),
            where=in_query_results(file_path_of_uri('_metadata.file_path'), files_query),
        ) }}
        )
    {%- endif -%}
{% endmacro %}

{#- The external text table under `raw_event_lines` (same schema). -#}
{% macro raw_event_files_relation() %}
    {{ return(source('web_events', 'raw_event_lines').incorporate(path={'identifier': 'raw_event_files'})) }}
{% endmacro %}
