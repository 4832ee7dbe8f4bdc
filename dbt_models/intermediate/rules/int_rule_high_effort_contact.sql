-- Grain: one row per order (key order_id) that cost the customer high effort while open:
-- high_effort_contacts inbound contacts within any high_effort_days, or any contact
-- transferred, or inbound handle_seconds adding up to effort_seconds. Contacts without an
-- order count for the customer's single open order then (int_contacts_attributed).
-- occurred_at is the contact at which a condition first held with the order open.
with contacts as (
    select * from {{ ref('int_contacts_attributed') }} where attributed_order_id is not null
),
inbound as (
    select *,
        count(*) over (partition by attributed_order_id order by started_at
                       range between {{ days(var('high_effort_days')) }} preceding
                       and current row) as inbound_in_window,
        sum(coalesce(handle_seconds, 0)) over (partition by attributed_order_id
                       order by started_at, contact_id rows unbounded preceding) as handle_so_far
    from contacts
    where direction = 'inbound'
),
triggers as (
    select attributed_order_id as order_id, contact_id, started_at,
           inbound_in_window || ' inbound contacts within ' || {{ var('high_effort_days') }} || ' days' as why
    from inbound where inbound_in_window >= {{ var('high_effort_contacts') }}
    union all
    select attributed_order_id, contact_id, started_at, 'contact ' || contact_id || ' transferred (' || channel || ')'
    from contacts where outcome = 'transferred'
    union all
    select attributed_order_id, contact_id, started_at, handle_so_far || ' s of agent time on inbound contacts'
    from inbound where handle_so_far >= {{ var('effort_seconds') }}
),
while_open as (
    select t.*
    from triggers as t
    join {{ ref('stg_oms__order_versions') }} as v
        on v.order_id = t.order_id and v.is_open
        and {{ version_at('v', 't.started_at') }}
    {{ first_per('t.order_id', 't.started_at, t.contact_id, t.why') }}
)
select
    {{ exception_columns(
        type='high_effort_contact', key='order_id', order_id='order_id', contact_id='contact_id',
        occurred_at='started_at', evidence='why') }}
from while_open
