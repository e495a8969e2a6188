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
    full build, every read in the ledger.
-#}
{% macro ledger_reads_to_stage() -%}
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
{%- endmacro %}
