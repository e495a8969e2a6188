{#-
    One row per non-blank input line: where it came from (file, line number,
    load time), the line itself, and the event typed as the schema says (every
    field as text). This is the only model that reads the raw files, and it
    parses each line once (PITFALLS 12).

    A line that is not exactly one JSON object, or has a field of the wrong
    JSON shape (an object where text is expected, `"user": "abc"`), keeps its
    text in `_corrupt_record` and has NULL fields, as Spark's own JSON reader
    does in PERMISSIVE mode.

    Incremental: a run reads only the files not staged before (new files
    dropped into the `events_path` folder); files are taken as immutable once
    staged. `--full-refresh` re-reads everything.
-#}
{{ config(materialized='incremental', incremental_strategy='append') }}

{%- set text_fields = {
    'event_id': '$.event_id',
    'user_session_id': '$.user.session_id',
    'user_id': '$.user.id',
    'user_ip': '$.user.ip',
    'action': '$.action',
    'url': '$.url',
    'event_timestamp': '$.timestamp',
} -%}

with

source as (
    select
        line as raw_record,
        file_path as source_file_uri,
        file_block_start as source_block_start,
        row_id as source_row_id
    from {{ source('web_events', 'raw_event_lines') }}
    {%- if is_incremental() %}
    -- Spark prunes the file listing by these names: old files are not read.
    where {{ not_yet_staged('file_path') }}
    {%- endif %}
),

file_blocks as (
    -- large files are read in blocks; count the lines of each block
    select
        source_file_uri,
        source_block_start,
        min(source_row_id) as first_row_id,
        count(*) as line_count
    from source
    group by source_file_uri, source_block_start
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
        regexp_replace(source.source_file_uri, '^file:', '') as source_file,
        file_block_offsets.lines_before
        + (source.source_row_id - file_block_offsets.first_row_id)
        + 1 as line_number
    from source
    inner join file_block_offsets
        on
            source.source_file_uri <=> file_block_offsets.source_file_uri
            and source.source_block_start <=> file_block_offsets.source_block_start
    -- blank lines are not events (SPEC)
    where not source.raw_record rlike '^\\s*$'
),

parsed as (
    select
        source_file_uri,
        source_file,
        line_number,
        raw_record,
        {{ parse_json_line('raw_record') }} as parsed_line
    from numbered
),

objects as (
    select
        source_file_uri,
        source_file,
        line_number,
        raw_record,
        {{ json_object_or_null('parsed_line') }} as record
    from parsed
),

field_schemas as (
    select
        source_file_uri,
        source_file,
        line_number,
        raw_record,
        record,
        {%- for name, path in text_fields.items() %}
        try_variant_get(record, '{{ path }}', 'string') as {{ name }},
        schema_of_variant(variant_get(record, '{{ path }}')) as {{ name }}_schema,
        {%- endfor %}
        schema_of_variant(variant_get(record, '$.user')) as user_schema
    from objects
),

fields as (
    select
        *,
        {%- for name in text_fields %}
        {{ json_kind(name ~ '_schema') }} as {{ name }}_kind,
        {%- endfor %}
        {{ json_kind('user_schema') }} as user_kind
    from field_schemas
),

shaped as (
    select
        *,
        record is null
        or user_kind not in ('object', 'null')
        {%- for name in text_fields %}
        or {{ name }}_kind not in ('string', 'number', 'null')
        {%- endfor %} as is_corrupt
    from fields
),

final as (
    select
        source_file_uri,
        source_file,
        line_number,
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
