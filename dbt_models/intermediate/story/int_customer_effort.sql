-- Grain: one row per customer and open order at T (customer_id, order_id): how much effort the
-- customer has spent on the order so far. Orders nobody contacted us about have zeros.
-- effort_score is int_contact_effort's (one definition, also behind the outreach priority).
{{ config(schema='intermediate') }}
with open_orders as (
    select order_id, customer_id from {{ ref('int_orders') }} where is_open
),
latest as (
    select * from {{ ref('int_contact_effort') }}
    {{ first_per('order_id', 'started_at desc, contact_id desc') }}
),
per_channel as (
    select order_id, channel, count(*) as contacts, min(started_at) as first_at, max(started_at) as last_at
    from {{ ref('int_contact_effort') }}
    where is_inbound
    group by all
),
channels as (
    select order_id,
           {{ ordered_map('channel', 'contacts', ['first_at', 'channel']) }} as contacts_by_channel,
           {{ ordered_list('channel', ['first_at', 'channel']) }} as channels_used,
           min(first_at) as first_contact_at,
           max(last_at) as last_contact_at
    from per_channel
    group by order_id
)
select
    o.customer_id,
    o.order_id,
    coalesce(l.inbound_contacts, 0) as inbound_contacts,
    coalesce(c.contacts_by_channel, {{ empty_count_map() }}) as contacts_by_channel,
    coalesce(c.channels_used, {{ empty_text_list() }}) as channels_used,
    coalesce(l.channel_count, 0) as channel_count,
    coalesce(l.handle_seconds_so_far, 0) as handle_seconds,
    coalesce(l.transfers, 0) as transfers,
    coalesce(l.repeat_contacts, 0) as repeat_contacts,
    c.first_contact_at,
    c.last_contact_at,
    {{ quotient(hour_boundaries_between('c.first_contact_at', as_of()), 24) }} as days_since_first_contact,
    coalesce(l.effort_score, 0) as effort_score
from open_orders as o
left join latest as l using (order_id)
left join channels as c using (order_id)
