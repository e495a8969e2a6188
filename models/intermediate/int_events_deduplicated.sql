{#-
    SPEC rule 8 on top of rules 1-7: of the valid events sharing an event_id,
    the one with the earliest event time is kept (ties: the file loaded first,
    then the file name, then the earlier line); the others become
    `duplicate_event`. Every line stays, with its final `rejection_reason`
    (NULL = accepted).

    Materialised as a table, not a view: both user_activity and
    rejected_events read it, and a view would parse and rank every event twice.
-#}
{{ config(materialized='table') }}

with

validated as (
    select * from {{ ref('int_events_validated') }}
),

ranked as (
    select
        *,
        case
            when rejection_reason is null
                then row_number() over (
                    partition by rejection_reason is null, event_id
                    order by time_stamp, loaded_at, source_file, line_number
                )
        end as event_id_rank
    from validated
),

final as (
    select
        source_file,
        line_number,
        loaded_at,
        raw_record,
        event_id,
        user_id,
        time_stamp,
        url_level1,
        url_level2,
        url_level3,
        activity,
        coalesce(
            rejection_reason,
            case when event_id_rank > 1 then 'duplicate_event' end
        ) as rejection_reason
    from ranked
)

select * from final
