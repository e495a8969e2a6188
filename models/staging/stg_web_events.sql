{#-
    One row per non-blank input line: where it came from (file, line number,
    load time), the line itself, and the event typed as the schema says (every
    field as text). This is the only model that reads the raw files, and it
    parses each line once (docs/spark-notes.md, "Reading raw JSON in one pass").

    A line that is not exactly one JSON object, or has a field of the wrong
    JSON shape (an object where text is expected, `"user": "abc"`), keeps its
    text in `_corrupt_record` and has NULL fields, as Spark's own JSON reader
    does in PERMISSIVE mode.

    It reads what the load ledger says: new files whole, and the lines after
    the old ones of files that grew (`first_line` to `last_line` of the
    ledger's rows not staged yet; a grown file is read whole, its old lines
    skipped).
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

{#-
    The lines to stage, read twice below (to count the lines of each file
    block, and to number and parse them). Two reads, not one shared CTE:
    Spark shares a CTE holding a nondeterministic expression
    (monotonically_increasing_id) by shuffling all of its rows, the whole
    text, which costs more than reading the files again. Both reads split the
    same files into the same partitions, so each line gets the same row_id.
    Only the files the ledger names are read (raw_event_lines_of_files).
-#}
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
    select
        source_file_uri,
        source_file,
        line_number,
        run_id,
        raw_record,
        {{ parse_json_line('raw_record') }} as parsed_line
    from in_range
),

objects as (
    select
        source_file_uri,
        source_file,
        line_number,
        run_id,
        raw_record,
        parsed_line,
        {{ is_json_object_line('raw_record', 'parsed_line') }} as is_object,
        {{ json_record('raw_record') }} as record
    from parsed
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
        is_object
    from objects
),

field_schemas as (
    -- A field's JSON shape (schema_of_variant) costs about as much as the
    -- parse, so it is taken only where it matters: always for user.id (a
    -- number and a string of digits are read differently), and for the
    -- other fields only when their text is what a boolean, an object or an
    -- array reads as (`true`, `{...`, `[...`). `user` is an object whenever
    -- one of its fields is present; otherwise its shape is checked.
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
