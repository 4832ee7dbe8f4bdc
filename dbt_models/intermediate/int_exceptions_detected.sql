-- Grain: one row per exception (exception_id) that holds on the data known at T, with
-- first_detected_at: the earliest run T (at or before this one) that saw it, from the
-- detection history (marts.exception_history, the one record of past runs that the data
-- cannot rebuild). What the exceptions mart publishes and what outreach and the story read.
{{ config(materialized='view') }}
select
    e.exception_id,
    e.exception_type,
    e.exception_subtype,
    e.exception_key,
    e.severity,
    e.order_id,
    e.customer_id,
    e.booking_id,
    e.shipment_id,
    e.contact_id,
    e.event_id,
    e.contractor_id,
    e.warehouse_id,
    e.occurred_at,
    h.first_detected_at,
    e.status,
    e.evidence
from {{ ref('int_exceptions') }} as e
join (
    select exception_id, min(detected_at) as first_detected_at
    from {{ ref('exception_history') }}
    where detected_at <= {{ as_of() }}
    group by exception_id
) as h using (exception_id)
