-- Grain: one row per outreach case (case_id): its context, one or two sentences for whoever
-- contacts the customer, on any channel: what broke (every exception of the order, open or put
-- right, in the order they opened; one clause per type, int_exception_story), what the customer
-- already did and how much effort that was (fct_customer_effort). Names the customer by first
-- name only (all raw keeps of a name); words: macros/story_wording.sql.
with cases as (
    select case_id, customer_id, order_id from {{ ref('int_outreach_cases') }}
),
per_type as (
    select order_id, exception_type, count(*) as times, min(opened_at) as first_opened,
           {{ value_at_min('context_clause', ['opened_at', 'exception_id']) }} as clause
    from {{ ref('int_exception_story') }}
    where context_clause is not null
    group by all
),
broke as (
    select c.case_id,
           {{ joined_text("case when p.times > 1 then " ~ say('clause_repeated', {'clause': 'p.clause', 'times': 'p.times'})
                          ~ " else p.clause end", "'; '", ['p.first_opened', 'p.exception_type']) }} as what_broke
    from cases as c
    join per_type as p using (order_id)
    group by c.case_id
),
effort as (
    select c.case_id, e.*,
           {{ join_each('e.channels_used', 'ch', phrase('channel_name', 'ch', fallback=true), "', '") }} as channel_list
    from cases as c
    left join {{ ref('int_customer_effort') }} as e on e.order_id = c.order_id
),
named as (
    select c.case_id, cu.first_name
    from cases as c
    left join {{ ref('stg_oms__customers') }} as cu on cu.customer_id = c.customer_id
)
{%- set values = {
    'what_broke': 'upper(left(b.what_broke, 1)) || substr(b.what_broke, 2)',
    'name': 'coalesce(n.first_name, ' ~ say('unnamed_customer', {}) ~ ')',
    'contacts': say_count('count.contacts', 'e.inbound_contacts'),
    'channels': say_count('count.channels', 'e.channel_count'),
    'channel_list': 'e.channel_list',
    'first_day': story_day(to_local_time('e.first_contact_at', "coalesce(cu.timezone, 'UTC')")),
    'handled': 'case when e.handle_seconds > 0 then ' ~ story_agent_time('e.handle_seconds') ~ ' end',
    'transfers': 'case when e.transfers > 0 then ' ~ say_count('count.transfers', 'e.transfers') ~ ' end',
    'score': 'e.effort_score'} %}
select
    c.case_id,
    case when coalesce(e.inbound_contacts, 0) > 0 then {{ say('context_contacted', values) }}
         else {{ say('context_not_contacted', values) }} end as context
from cases as c
left join broke as b using (case_id)
left join effort as e using (case_id)
left join named as n using (case_id)
left join {{ ref('stg_oms__customers') }} as cu on cu.customer_id = c.customer_id
