{#-
    Every staged line with its event normalised and, when it breaks one of
    SPEC's rules 1-7, the first rule it breaks (`rejection_reason`, in SPEC
    order). Each rule's parsing lives in one macro under macros/rules/.

    The steps are separate CTEs on purpose: a column used twice (the trimmed
    URL, its host) is computed once per row, not once per use.
-#}
with

staged as (
    select * from {{ ref('stg_web_events') }}
),

trimmed as (
    select
        source_file,
        line_number,
        run_id,
        loaded_at,
        raw_record,
        _corrupt_record,
        user_id_json_kind,
        {{ trim_to_null('event_id') }} as event_id,
        {{ trim_to_null('user_id') }} as user_id_text,
        {{ trim_to_null('action') }} as action_text,
        {{ trim_to_null('event_timestamp') }} as event_timestamp_text,
        {{ url_without_scheme('url') }} as url_rest
    from staged
),

url_split as (
    select
        *,
        {{ url_host('url_rest') }} as url_host,
        {{ url_path_pieces('url_rest') }} as url_path_pieces
    from trimmed
),

normalised as (
    select
        source_file,
        line_number,
        run_id,
        loaded_at,
        raw_record,
        _corrupt_record,
        event_id,
        user_id_text,
        {{ parse_user_id('user_id_text', 'user_id_json_kind') }} as user_id,
        lower(action_text) as activity,
        {{ parse_event_time('event_timestamp_text') }} as time_stamp,
        url_host,
        {{ url_level1('url_host') }} as url_level1,
        get(url_path_pieces, 0) as url_level2,
        get(url_path_pieces, 1) as url_level3
    from url_split
),

validated as (
    select
        *,
        case
            when _corrupt_record is not null then 'malformed_json'
            when event_id is null then 'missing_event_id'
            when user_id_text is null then 'missing_user_id'
            when user_id is null then 'invalid_user_id'
            when activity is null then 'missing_action'
            when time_stamp is null then 'invalid_timestamp'
            when url_host is null then 'invalid_url'
        end as rejection_reason
    from normalised
)

select * from validated
