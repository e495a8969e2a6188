{#-
    Post-hook of each mart (`post_hook="{{ export_csv() }}"`): writes the
    mart as CSV, sorted, into `<export_dir>/_parts/<model>/`. What to write
    is declared in the model's config, `meta.export`:
      columns       SQL expressions with aliases, in file order
      order_by      the sort keys (SPEC's order; NULLs first, Spark's default)
      partition_by  optional: a date column of the mart that follows the
                    first sort key (user_activity's event_date)

    SPEC's format: UTF-8, header, RFC 4180 quoting (a quote is doubled, not
    backslash-escaped, which is Spark's default), NULL as an empty field,
    whitespace kept as is, `\n` line ends.

    The global sort range-partitions the rows, so the parts are sorted and
    written in parallel, part-00000 holding the first range. Spark can only
    write a folder of part files (docs/spark-notes.md, "CSV from SQL is a
    folder of part files"); the run command
    (scripts/pipeline.py) joins the parts in order under one header into
    `<export_dir>/<model>.csv` and renames it into place atomically.

    Without `partition_by` every run rewrites the whole folder. With it, the
    folder holds one sub-folder per day (`event_date=2017-02-01/`) behind an
    external CSV table `<model>__csv_parts`, and a run rewrites only the days of
    `touched_by` (int_events_deduplicated) decided since the last export:
    see export_csv_partitions.
-#}
{% macro export_csv(touched_by=none) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set spec = config.get('meta', {}).get('export') -%}
    {%- if not spec or not spec.get('columns') or not spec.get('order_by') -%}
        {{ exceptions.raise_compiler_error(
            "export_csv: model " ~ this ~ " needs config meta.export with `columns` and `order_by`"
        ) }}
    {%- endif -%}
    {%- set target_dir = resolve_path(var('export_dir')).rstrip('/') ~ '/_parts/' ~ this.identifier -%}
    {%- if spec.get('partition_by') -%}
        {{ return(export_csv_partitions(spec, target_dir, touched_by)) }}
    {%- endif -%}
    insert overwrite directory {{ sql_string(target_dir) }}
    using csv
    options ({{ csv_export_options() }})
    select
        {{ spec.columns | join(',\n        ') }}
    from {{ this }}
    order by {{ spec.order_by | join(', ') }}
{% endmacro %}

{#- The CSV writer's options for SPEC's format (one home for both writers). -#}
{% macro csv_export_options() -%}
    'header' 'true',
    'sep' ',',
    'quote' '"',
    'escape' '"',
    'nullValue' '',
    'ignoreLeadingWhiteSpace' 'false',
    'ignoreTrailingWhiteSpace' 'false',
    'lineSep' '\n',
    'encoding' 'UTF-8'
{%- endmacro %}

{#-
    The export of a day-partitioned mart, rewriting only the days that changed.

    `<model>__csv_parts` is an external CSV table partitioned like the mart,
    located at the export's folder.

    Full export (first run, --full-refresh, or the var `export_all`, which
    `make run` sets when a part file of the last finished run is missing, or
    a table over another folder): empty the folder (leaving a header-only part
    at its root, which also gives an empty mart its header), re-create the
    table over it and write every day. Otherwise: the days the latest run
    decided in `touched_by` (touched_partitions: new, late or displaced
    events) are rewritten by a dynamic partition overwrite; a day the mart no
    longer has is emptied by a static overwrite of that partition with no
    rows.
-#}
{% macro export_csv_partitions(spec, target_dir, touched_by) %}
    {%- set column = spec.partition_by -%}
    {%- set export = api.Relation.create(
        database=this.database, schema=this.schema, identifier=this.identifier ~ '__csv_parts', type='table'
    ) -%}
    {%- set existing = adapter.get_relation(
        database=this.database, schema=this.schema, identifier=export.identifier
    ) -%}
    {#- the table over another export folder (a run with another export_dir) -#}
    {%- set location = namespace(path=none) -%}
    {%- if existing is not none -%}
        {%- for row in run_query('describe table extended ' ~ export).rows if row[0] == 'Location' -%}
            {%- set location.path = row[1] | replace('file:', '', 1) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set full = flags.FULL_REFRESH or var('export_all', false) or touched_by is none
        or location.path != target_dir -%}
    {%- set select_list = spec.columns | join(', ') -%}

    {%- if full -%}
        {%- do run_query(
            'insert overwrite directory ' ~ sql_string(target_dir) ~ ' using csv options ('
            ~ csv_export_options() ~ ') select ' ~ select_list ~ ' from ' ~ this ~ ' where false'
        ) -%}
        {%- set described = run_query('describe query select ' ~ select_list ~ ', ' ~ column ~ ' from ' ~ this) -%}
        {%- do run_query('drop table if exists ' ~ export) -%}
        {%- set create -%}
            create table {{ export }} (
            {%- for row in described.rows -%}
                `{{ row[0] }}` {{ row[1] }}{{ ", " if not loop.last }}
            {%- endfor -%}
            )
            using csv
            options ({{ csv_export_options() }}, 'partitionOverwriteMode' 'dynamic')
            partitioned by ({{ column }})
            location {{ sql_string(target_dir) }}
        {%- endset -%}
        {%- do run_query(create) -%}
        {%- set days = none -%}
    {%- else -%}
        {%- set days = touched_partitions(touched_by) -%}
        {%- set present = [] -%}
        {%- for row in run_query('show partitions ' ~ this).rows -%}
            {%- do present.append(row[0].split('=', 1)[1]) -%}
        {%- endfor -%}
        {%- for day in days if day not in present -%}
            {%- do run_query(
                'insert overwrite table ' ~ export ~ ' partition (' ~ column ~ ' = date ' ~ sql_string(day) ~ ')'
                ~ ' select ' ~ select_list ~ ' from ' ~ this ~ ' where false'
            ) -%}
        {%- endfor -%}
    {%- endif -%}

    {%- if days is none or days | length > 0 -%}
        insert overwrite table {{ export }} partition ({{ column }})
        select {{ select_list }}, {{ column }}
        from {{ this }}
        where {{ in_partitions(column, days) }}
        order by {{ column }}, {{ spec.order_by | join(', ') }}
    {%- else -%}
        select 1 as no_day_changed
    {%- endif -%}
{% endmacro %}
