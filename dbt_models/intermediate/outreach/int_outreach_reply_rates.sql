-- Grain: one row per customer with an outreach case and outreach channel (email, sms,
-- phone, whatsapp): how likely the customer is to answer us there. The customer's own
-- outbound history (contacts whose `responded` is known) is smoothed toward everyone's rate
-- on that channel with reply_rate_prior_weight pseudo-contacts:
--   reply_rate = (replies + weight * everyone_rate) / (answerable + weight)
with channels as (
    select channel from {{ ref('outreach_channels') }}
),
outbound as (
    select customer_id, channel, responded
    from {{ ref('stg_contacts__contacts') }}
    where direction = 'outbound' and responded is not null
),
everyone as (
    select ch.channel,
           coalesce(avg(CAST(o.responded AS INTEGER)),
                    (select avg(CAST(responded AS INTEGER)) from outbound), 0) as everyone_reply_rate
    from channels as ch
    left join outbound as o on o.channel = ch.channel
    group by ch.channel
),
own as (
    select customer_id, channel, count(*) as answerable, count(*) filter (where responded) as replies
    from outbound
    group by all
),
customers as (
    select distinct customer_id from {{ ref('int_outreach_cases') }}
)
select
    c.customer_id,
    e.channel,
    coalesce(o.answerable, 0) as answerable,
    coalesce(o.replies, 0) as replies,
    e.everyone_reply_rate,
    case when coalesce(o.answerable, 0) + {{ var('reply_rate_prior_weight') }} = 0 then e.everyone_reply_rate
         else (coalesce(o.replies, 0) + {{ var('reply_rate_prior_weight') }} * e.everyone_reply_rate)
              / (coalesce(o.answerable, 0) + {{ var('reply_rate_prior_weight') }}) end as reply_rate
from customers as c
cross join everyone as e
left join own as o on o.customer_id = c.customer_id and o.channel = e.channel
