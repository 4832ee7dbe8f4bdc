-- Grain: one row per customer and order (case_id) that ops should contact proactively today:
-- every int_outreach_cases case, sendable or with the reason it is held (suppressed_reason), with
-- its context (int_outreach_context) so whoever contacts the customer starts from the story.
--
-- Channels: the consented service channels, in this order: not yet tried (a channel that got
-- no reply within reply_hours, or is still waiting for one, moves behind the others); timed
-- channels (sms, phone, whatsapp) behind email when the time zone is unknown; the preferred
-- channel; the best smoothed reply rate (int_outreach_reply_rates); a fixed order.
-- Tries are our service outbound contacts about the order since the case opened.
-- send_after: the earliest moment >= T inside [quiet_hours_start, quiet_hours_end) local time
-- (UTC when the zone is unknown, which only an untimed channel may use).
{{ config(schema='intermediate') }}
with cases as (
    select * from {{ ref('int_outreach_cases') }}
),
customers as (
    select customer_id, timezone, preferred_channel, consent_email, consent_sms, consent_phone, consent_whatsapp
    from {{ ref('stg_oms__customers') }}
),
contacts as (
    select customer_id, attributed_order_id, channel, direction, team, reason, started_at, responded
    from {{ ref('int_contacts_attributed') }}
),
channel_kinds as (
    select channel, is_timed, fixed_rank from {{ ref('outreach_channels') }}
),
consented as (
    select c.case_id, c.customer_id, k.channel, k.is_timed, k.fixed_rank,
           coalesce(cu.preferred_channel = k.channel, false) as is_preferred,
           k.is_timed and cu.timezone is null as is_held
    from cases as c
    join customers as cu on cu.customer_id = c.customer_id
    cross join channel_kinds as k
    where case k.channel when 'email' then cu.consent_email when 'sms' then cu.consent_sms
                         when 'phone' then cu.consent_phone when 'whatsapp' then cu.consent_whatsapp end
),
tries as (
    select c.case_id, ct.channel, bool_or(coalesce(ct.responded, false)) as answered,
           max(ct.started_at) as last_tried_at
    from cases as c
    join contacts as ct on ct.customer_id = c.customer_id and ct.attributed_order_id = c.order_id
    where ct.direction = 'outbound' and ct.team <> 'marketing' and ct.reason not in ('upsell', 'survey')
      and ct.started_at >= c.opened_at
    group by all
),
channel_states as (
    select k.*, coalesce(r.reply_rate, 0) as reply_rate,
           case when t.case_id is null then 'untried'
                when t.answered then 'answered'
                when t.last_tried_at > {{ as_of() }} - {{ hours(var('reply_hours')) }} then 'awaiting'
                else 'unanswered' end as state
    from consented as k
    left join tries as t on t.case_id = k.case_id and t.channel = k.channel
    left join {{ ref('int_outreach_reply_rates') }} as r on r.customer_id = k.customer_id and r.channel = k.channel
),
ranked as (
    select *,
           row_number() over (partition by case_id order by state in ('awaiting', 'unanswered'), is_held,
                              is_preferred desc, reply_rate desc, fixed_rank) as channel_order
    from channel_states
),
channels as (
    select case_id,
           {{ ordered_list('channel', ['channel_order']) }} as channels,
           count(*) as consented_channels,
           count(*) filter (where state = 'unanswered') as unanswered_channels,
           bool_or(state = 'awaiting') as awaiting_reply,
           bool_or(channel_order = 1 and is_held) as first_is_held
    from ranked
    group by case_id
),
in_contact as (
    -- the customer reached us lately about this order (or without naming one)
    select distinct c.case_id
    from cases as c
    join contacts as ct on ct.customer_id = c.customer_id
    where ct.direction = 'inbound'
      and ct.started_at > {{ as_of() }} - {{ hours(var('in_contact_hours')) }}
      and (ct.attributed_order_id = c.order_id or ct.attributed_order_id is null)
),
local_clock as (
    select c.case_id, coalesce(cu.timezone, 'UTC') as zone,
           {{ to_local_time(as_of(), "coalesce(cu.timezone, 'UTC')") }} as local_now
    from cases as c
    left join customers as cu on cu.customer_id = c.customer_id
),
send_times as (
    select case_id,
           case when local_now < CAST(local_now AS DATE) + {{ hours(var('quiet_hours_start')) }}
                then {{ to_instant('CAST(local_now AS DATE) + ' ~ hours(var('quiet_hours_start')), 'zone') }}
                when local_now >= CAST(local_now AS DATE) + {{ hours(var('quiet_hours_end')) }}
                then {{ to_instant('CAST(local_now AS DATE) + 1 + ' ~ hours(var('quiet_hours_start')), 'zone') }}
                else {{ as_of() }} end as send_after
    from local_clock
)
select
    c.case_id,
    c.order_id,
    c.customer_id,
    c.exception_types,
    c.exception_ids,
    c.worst_severity,
    c.open_exceptions,
    c.effort_score,
    c.priority,
    {{ first_of('ch.channels') }} as channel,
    {{ rest_of('ch.channels') }} as fallback_channels,
    s.send_after,
    c.has_high_effort or coalesce(ch.unanswered_channels = ch.consented_channels, false) as escalate,
    case when ch.case_id is null then 'no consented channel'
         when ic.case_id is not null then 'customer already in contact'
         when ch.awaiting_reply then 'awaiting a reply'
         when ch.first_is_held then 'unknown time zone for a timed channel' end as suppressed_reason,
    m.message,
    x.context
from cases as c
left join channels as ch on ch.case_id = c.case_id
left join in_contact as ic on ic.case_id = c.case_id
join send_times as s on s.case_id = c.case_id
left join {{ ref('int_outreach_messages') }} as m on m.case_id = c.case_id
left join {{ ref('int_outreach_context') }} as x on x.case_id = c.case_id
