{#-
    Post-hook of each mart: writes the mart as CSV, sorted, into
    `<export_dir>/_parts/<model>/`. SPEC's format: UTF-8, header, RFC 4180
    quoting (a quote is doubled, not backslash-escaped, which is Spark's
    default), NULL as an empty field, whitespace kept as is, `\n` line ends.

    The global sort range-partitions the rows, so the parts are sorted and
    written in parallel, part-00000 holding the first range. Spark can only
    write a folder of part files (PITFALLS 10); the run command
    (scripts/pipeline.py) joins the parts in order under one header into
    `<export_dir>/<model>.csv` and renames it into place atomically.
    `columns` are SQL expressions with aliases, in file order; `order_by` the
    sort keys (SPEC's order; NULLs first, Spark's default).
-#}
{% macro export_csv(columns, order_by) %}
    {%- set export_dir = resolve_path(var('export_dir')) -%}
    {%- set target_dir = export_dir.rstrip('/') ~ '/_parts/' ~ this.identifier -%}
    insert overwrite directory '{{ target_dir | replace("'", "\\'") }}'
    using csv
    options (
        'header' 'true',
        'sep' ',',
        'quote' '"',
        'escape' '"',
        'nullValue' '',
        'ignoreLeadingWhiteSpace' 'false',
        'ignoreTrailingWhiteSpace' 'false',
        'lineSep' '\n',
        'encoding' 'UTF-8'
    )
    select
        {{ columns | join(',\n        ') }}
    from {{ this }}
    order by {{ order_by | join(', ') }}
{% endmacro %}
