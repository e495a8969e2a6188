-- SPEC: non-blank input lines = accepted events + rejected_events rows, and
-- user_activity rows = accepted events. Counts straight from the raw files, so
-- a line lost anywhere between the files and the marts fails this test.
with

raw_lines as (
    select count(*) as n
    from {{ source('web_events', 'raw_event_lines') }}
    where not line rlike '^\\s*$'
),

accepted as (
    select count(*) as n from {{ ref('user_activity') }}
),

rejected as (
    select count(*) as n from {{ ref('rejected_events') }}
)

select
    raw_lines.n as non_blank_lines,
    accepted.n as accepted_events,
    rejected.n as rejected_lines
from raw_lines
cross join accepted
cross join rejected
where raw_lines.n != accepted.n + rejected.n
