-- SPEC: the sum of activity_count over hrly_granular_activity equals the rows
-- of user_activity (every accepted event is counted in exactly one hour).
with

hourly as (
    select coalesce(sum(activity_count), 0) as n from {{ ref('hrly_granular_activity') }}
),

events as (
    select count(*) as n from {{ ref('user_activity') }}
)

select
    hourly.n as summed_activity_count,
    events.n as user_activity_rows
from hourly
cross join events
where hourly.n != events.n
