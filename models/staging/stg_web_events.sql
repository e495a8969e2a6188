{#-
    One row per non-blank input line: its file, line number and load time, the
    line itself, and the event's fields as text; a line that is not exactly one
    JSON object, or has a field of the wrong JSON shape, keeps its text in
    `_corrupt_record` and has NULL fields (as Spark's PERMISSIVE mode does).
    The only model that reads the raw files, each line parsed once
    (docs/spark-notes.md, "Reading raw JSON in one pass"); it stages what the
    load ledger says: new files whole, and the new lines of grown files.
-#}
{{ config(materialized='incremental', incremental_strategy='append') }}

{#- name: (path in the parsed line, field of the record struct) -#}
{%- set text_fields = {
    'event_id': ('$[0].event_id', "['event_id']"),
    'user_session_id': ('$[0].user.session_id', "['user']['session_id']"),
    'user_id': ('$[0].user.id', "['user']['id']"),
    'user_ip': ('$[0].user.ip', "['user']['ip']"),
    'action': ('$[0].action', "['action']"),
    'url': ('$[0].url', "['url']"),
    'event_timestamp': ('$[0].timestamp', "['timestamp']"),
} -%}

{#- The lines to stage (only the files the ledger names), read twice: see
    docs/spark-notes.md, "A shared CTE with a row id is shuffled". -#}
{%- set reads = ledger_reads_to_stage() %}
{%- set lines_relation = raw_event_lines_of_files(
    'select file_path from (' ~ reads ~ ') as reads'
) %}

with

reads as (
    -- the ledger's line ranges this run stages
    {{ reads }}
),

source as (
    select
        line as raw_record,
        file_path as source_file_uri,
        file_block_start as source_block_start,
        row_id as source_row_id
    from {{ lines_relation }}
),

file_blocks as (
    -- large files are read in blocks; count the lines of each block
    select
        file_path as source_file_uri,
        file_block_start as source_block_start,
        min(row_id) as first_row_id,
        count(*) as line_count
    from {{ lines_relation }}
    group by file_path, file_block_start
),

file_block_offsets as (
    select
        source_file_uri,
        source_block_start,
        first_row_id,
        coalesce(
            sum(line_count) over (
                partition by source_file_uri
                order by source_block_start
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as lines_before
    from file_blocks
),

numbered as (
    select /*+ broadcast(file_block_offsets) */
        source.raw_record,
        source.source_file_uri,
        {{ file_path_of_uri('source.source_file_uri') }} as source_file,
        file_block_offsets.lines_before
        + (source.source_row_id - file_block_offsets.first_row_id)
        + 1 as line_number
    from source
    inner join file_block_offsets
        on
            source.source_file_uri <=> file_block_offsets.source_file_uri
            and source.source_block_start <=> file_block_offsets.source_block_start
    -- blank lines are not events (SPEC)
    where not {{ is_blank('source.raw_record') }}
),

in_range as (
    -- a grown file's old lines were staged by an earlier run; lines written
    -- after the file was listed wait for the next one
    select /*+ broadcast(reads) */
        numbered.*,
        reads.run_id
    from numbered
    inner join reads
        on
            numbered.source_file = reads.file_path
            and numbered.line_number between reads.first_line and reads.last_line
),

parsed as (
    -- the strict parse (a VARIANT) and the fields' texts (from_json)
    select
        source_file_uri,
        source_file,
        line_number,
        run_id,
        raw_record,
        {{ parse_json_line('raw_record') }} as parsed_line,
        {{ json_record('raw_record') }} as record
    from in_range
),

field_texts as (
    select
        source_file_uri,
        source_file,
        line_number,
        run_id,
        raw_record,
        parsed_line,
        {%- for name, (path, field) in text_fields.items() %}
        record{{ field }} as {{ name }},
        {%- endfor %}
        {{ is_json_object_line('raw_record', 'parsed_line') }} as is_object
    from parsed
),

field_schemas as (
    -- JSON shapes (schema_of_variant costs as much as the parse) only where
    -- they matter: user.id always (56456 and "56456" differ), other fields
    -- when their text reads as a boolean, object or array, `user` when none
    -- of its fields is present
    select
        *,
        {%- for name, (path, field) in text_fields.items() %}
        case
            when {{ 'true' if name == 'user_id' else text_of_non_text_shape(name) }}
                then schema_of_variant(variant_get(parsed_line, '{{ path }}'))
        end as {{ name }}_schema,
        {%- endfor %}
        coalesce(user_id, user_ip, user_session_id) is null as user_has_no_fields,
        case
            when coalesce(user_id, user_ip, user_session_id) is null
                then schema_of_variant(variant_get(parsed_line, '$[0].user'))
        end as user_schema
    from field_texts
),

fields as (
    select
        *,
        {%- for name in text_fields %}
        case
            when {{ name }}_schema is not null then {{ json_kind(name ~ '_schema') }}
            when {{ name }} is null then 'null'
            else 'string or number'
        end as {{ name }}_kind,
        {%- endfor %}
        case
            when user_has_no_fields then {{ json_kind('user_schema') }}
            else 'object'
        end as user_kind
    from field_schemas
),

shaped as (
    select
        *,
        not is_object
        or user_kind not in ('object', 'null')
        {%- for name in text_fields %}
        or {{ name }}_kind in ('boolean', 'object', 'array')
        {%- endfor %} as is_corrupt
    from fields
),

final as (
    select
        source_file_uri,
        source_file,
        line_number,
        run_id,
        current_timestamp() as loaded_at,
        raw_record,
        case when is_corrupt then raw_record end as _corrupt_record,
        {%- for name in text_fields %}
        case when not is_corrupt then {{ name }} end as {{ name }},
        {%- endfor %}
        case when not is_corrupt then user_id_kind end as user_id_json_kind
    from shaped
)

select * from final
