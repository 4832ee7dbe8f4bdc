-- Grain: one row per contact attributed to an order (contact_id, as int_contacts_attributed
-- attributes it), with the customer's effort on that order up to and including this contact.
-- The effort score is defined here and nowhere else: fct_customer_effort reads its latest value
-- per order (and the outreach priority reads that), the order timeline shows how it grew.
--
-- Only what cost the customer effort counts: their inbound contacts (how many, on how many
-- channels, how many came within high_effort_days of the previous one, agent time) and any
-- contact passed to another team (transferred), as the high_effort_contact rule counts them.
--   effort_score = 5 per inbound contact + 5 per repeat contact + 5 per channel beyond the first
--                  + 15 per transfer + 1 per 5 minutes of agent time on inbound contacts,
--                  at most 100.
with contacts as (
    select contact_id, customer_id, attributed_order_id as order_id, channel, direction, started_at,
           handle_seconds, outcome, direction = 'inbound' as is_inbound
    from {{ ref('int_contacts_attributed') }}
    where attributed_order_id is not null
),
flagged as (
    select *,
        is_inbound and row_number() over (partition by order_id, is_inbound, channel
                                          order by started_at, contact_id) = 1 as is_new_channel,
        is_inbound and coalesce(started_at - lag(started_at) over (partition by order_id, is_inbound
                                                                    order by started_at, contact_id)
                                <= {{ days(var('high_effort_days')) }}, false) as is_repeat
    from contacts
),
running as (
    select *,
        count(*) filter (where is_inbound) over so_far as inbound_contacts,
        count(*) filter (where is_new_channel) over so_far as channel_count,
        count(*) filter (where is_repeat) over so_far as repeat_contacts,
        count(*) filter (where outcome = 'transferred') over so_far as transfers,
        CAST(coalesce(sum(handle_seconds) filter (where is_inbound) over so_far, 0) AS BIGINT) as handle_seconds_so_far
    from flagged
    window so_far as (partition by order_id order by started_at, contact_id rows unbounded preceding)
)
select
    contact_id,
    customer_id,
    order_id,
    channel,
    direction,
    started_at,
    is_inbound,
    is_new_channel,
    is_repeat,
    inbound_contacts,
    channel_count,
    repeat_contacts,
    transfers,
    handle_seconds_so_far,
    CAST(least(100, 5 * inbound_contacts + 5 * repeat_contacts + 5 * greatest(channel_count - 1, 0)
                    + 15 * transfers + {{ quotient('handle_seconds_so_far', 300) }}) AS INTEGER) as effort_score
from running
