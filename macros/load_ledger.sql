{#-
    The path of a file as the ledger and the tables name it, from the URI
    Spark gives it (`_metadata.file_path`): URL escapes undone (`%20` is a
    space; a `+` stays a `+`) and, for local files, the `file:` scheme
    dropped. The run command lists files under the same names.
-#}
{% macro file_path_of_uri(uri_expr) -%}
    regexp_replace(url_decode(replace({{ uri_expr }}, '+', '%2B')), '^file:', '')
{%- endmacro %}

{#-
    The ledger's reads that stg_web_events has not staged yet: one row per
    file and run, with the lines to take (`first_line` to `last_line`). On a
    full build, every read in the ledger; none where the ledger is not built
    yet (a compile or lint in an empty schema).
-#}
{% macro ledger_reads_to_stage() -%}
    {%- if execute and model.resource_type != 'unit_test' and load_relation(ref('load_ledger')) is none -%}
    select
        cast(null as string) as run_id,
        cast(null as string) as file_path,
        cast(null as bigint) as first_line,
        cast(null as bigint) as last_line
    where false
    {%- else -%}
    select
        run_id,
        file_path,
        first_line,
        last_line
    from {{ ref('load_ledger') }}
    where
        first_line is not null
        {%- if is_incremental() %}
        and run_id > (select coalesce(max(run_id), '') from {{ this }})
        {%- endif %}
    {%- endif -%}
{%- endmacro %}
