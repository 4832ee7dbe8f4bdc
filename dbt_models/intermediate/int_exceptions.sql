-- Grain: one row per exception (exception_id) found at T: the union of the rule models,
-- with its stable id, customer, severity and status.
-- The rules: the catalogue's types (the exception_types var, dbt_project.yml).
with found as (
    {% for rule in var('exception_types') %}
    select * from {{ ref('int_rule_' ~ rule) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),
severity as (
    select * from {{ ref('severity_map') }}
)
select
    {{ exception_id('f.exception_type', 'f.exception_key') }} as exception_id,
    f.exception_type,
    f.exception_subtype,
    f.exception_key,
    f.order_id,
    coalesce(o.customer_id, c.customer_id) as customer_id,
    f.booking_id, f.shipment_id, f.contact_id, f.event_id, f.contractor_id, f.warehouse_id,
    f.occurred_at,
    case when coalesce(of.is_big_ticket, false) then s.severity_big_ticket else s.severity_parcel end as severity,
    case when f.resolved_by_rule
           or not coalesce(o.is_open, true)
           or (s.resolved_by_delivery and of.fully_delivered_at is not null)
         then 'resolved' else 'open' end as status,
    f.evidence
from found as f
left join {{ ref('int_orders') }} as o using (order_id)
left join {{ ref('stg_contacts__contacts') }} as c using (contact_id)
left join {{ ref('int_order_fulfilment') }} as of using (order_id)
join severity as s
    on s.exception_type = f.exception_type
    -- an empty subtype (null from dbt seed, '' from a unit-test fixture of the CSV) matches every subtype
    and (coalesce(s.exception_subtype, '') = '' or s.exception_subtype = f.exception_subtype)
