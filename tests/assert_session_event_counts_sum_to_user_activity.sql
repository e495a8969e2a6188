-- SPEC: every accepted event is in exactly one session, so the sum of
-- event_count over user_sessions equals the rows of user_activity.
with

sessions as (
    select coalesce(sum(event_count), 0) as n from {{ ref('user_sessions') }}
),

events as (
    select count(*) as n from {{ ref('user_activity') }}
)

select
    sessions.n as summed_event_count,
    events.n as user_activity_rows
from sessions
cross join events
where sessions.n != events.n
