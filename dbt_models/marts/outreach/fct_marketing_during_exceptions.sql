-- Grain: one row per outbound marketing or upsell contact (contact_id) that reached a
-- customer while they had an open exception: what marketing_suppression exists to prevent.
-- "Reached": any outcome but no_answer. An exception is open from when the promise broke
-- (or, for at_risk_promise, was first detected) until the earliest moment it is known to be
-- put right (int_exception_spells). Two opened at once: the smaller exception_id is named.
with spells as (
    select * from {{ ref('int_exception_spells') }} where customer_id is not null
),
marketing as (
    select contact_id, customer_id, channel, team, reason, outcome, started_at
    from {{ ref('stg_contacts__contacts') }}
    where direction = 'outbound' and (team = 'marketing' or reason = 'upsell') and outcome <> 'no_answer'
)
select
    m.contact_id,
    m.customer_id,
    m.started_at,
    {{ utc_date('m.started_at') }} as day,
    m.channel,
    m.team,
    m.reason,
    count(*) as open_exceptions,
    {{ value_at_min('s.exception_id', ['s.opened_at', 's.exception_id']) }} as exception_id,
    {{ value_at_min('s.exception_type', ['s.opened_at', 's.exception_id']) }} as exception_type
from marketing as m
join spells as s
    on s.customer_id = m.customer_id
    and s.opened_at <= m.started_at
    and (s.resolved_at is null or m.started_at < s.resolved_at)
group by all
