-- Grain: one row per contact, with the order it is about: its own order_id, or for a
-- contact without one, the customer's single open order at started_at (none when zero
-- or several orders were open then).
-- Incremental (macros/incremental.sql): a run recomputes new or changed contacts, and the
-- contacts of customers whose orders gained a known version.
{{ config(materialized='incremental', unique_key='contact_id', post_hook="{{ record_increment() }}",
          pre_hook="{{ collect_touched(contacts_changed(), 'contact_id') }}") }}
with contacts as (
    select * from {{ ref('stg_contacts__contacts') }}
    {%- if is_incremental() %}
    where {{ is_touched('contact_id') }}
    {%- endif %}
),
unlinked as (
    select c.contact_id, min(v.order_id) as order_id, count(*) as open_orders
    from contacts as c
    join {{ ref('stg_oms__order_versions') }} as v
        on v.customer_id = c.customer_id
        and {{ version_at('v', 'c.started_at') }}
        and v.is_open and v.placed_at <= c.started_at
    where c.order_id is null
    group by c.contact_id
)
select
    {{ star_except('c', ['_built_at']) }},
    coalesce(c.order_id, case when u.open_orders = 1 then u.order_id end) as attributed_order_id,
    case when c.order_id is not null then 'linked'
         when u.open_orders = 1 then 'inferred' end as attribution,
    {{ built_at() }} as _built_at
from contacts as c
left join unlinked as u using (contact_id)
