-- Grain: one row per contact attributed to an order (contact_id; int_contacts_attributed),
-- with the customer's effort on the order after it (int_contact_effort). Part of
-- fct_order_timeline.
{{ config(materialized='view') }}
select
    c.attributed_order_id as order_id,
    c.started_at as happened_at,
    'contacts' as source,
    'contact' as fact,
    c.contact_id as source_key,
    case when c.direction = 'inbound' then {{ say('contact_inbound', {
            'verb': phrase('verb_inbound', 'c.channel'), 'reason': phrase('reason_inbound', 'c.reason'),
            'duration': 'case when c.handle_seconds > 0 then ' ~ story_agent_time('c.handle_seconds') ~ ' end',
            'team': phrase('team', 'c.team'), 'outcome': phrase('outcome', 'c.outcome', fallback=true),
            'agreed': "case when c.outcome = 'reschedule_agreed' then " ~ story_day('c.agreed_date') ~ " end",
            'unlinked': phrase('unlinked', 'c.attribution')}) }}
         else {{ say('contact_outbound', {
            'verb': phrase('verb_outbound', 'c.channel'), 'reason': phrase('reason_outbound', 'c.reason'),
            'outcome': phrase('outcome', 'c.outcome', fallback=true), 'reply': phrase('reply', 'c.responded')}) }}
    end as summary,
    c.contact_id,
    c.channel,
    c.direction,
    c.team,
    c.handle_seconds,
    c.outcome,
    e.effort_score
from {{ ref('int_contacts_attributed') }} as c
left join {{ ref('int_contact_effort') }} as e using (contact_id)
where c.attributed_order_id is not null
