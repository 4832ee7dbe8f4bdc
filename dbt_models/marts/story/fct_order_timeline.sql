-- Grain: one row per fact about an order, as known at T (fact_id): every order version and line
-- (oms), shipment (wms), booking version and contractor event (contractor), contact (contacts:
-- its own order, or the one it is attributed to), and what this pipeline found (monitor): each
-- exception when it opened and when it was put right, the outreach case queued at T. Each row has
-- its time, the system it came from and a one-line summary (words: macros/story_wording.sql).
-- An order's story is its rows ordered by happened_at, fact_rank, source_key. Key: (fact,
-- source_key). Ids that equal source_key (event, contact, shipment, exception, case) are not
-- repeated, and there is no stored row number: at a million orders every extra column of this
-- table costs seconds a night.
with facts as (
    {{ union_all_by_name([ref('int_timeline_oms'), ref('int_timeline_wms'), ref('int_timeline_contractor'),
                          ref('int_timeline_contacts'), ref('int_timeline_monitor')]) }}
),
ranked as (
    select *,
           {{ position_in(['order_version', 'order_line', 'shipment', 'booking_version', 'contractor_event',
                           'contact', 'exception_opened', 'exception_resolved', 'outreach_queued'], 'fact') }} as fact_rank
    from facts
)
select
    f.order_id,
    o.customer_id,
    f.happened_at,
    f.fact_rank,
    f.source,
    f.fact,
    f.source_key,
    f.summary,
    f.changed_by,
    f.event_type,
    f.booking_id,
    CAST(f.version_no AS INTEGER) as version_no,
    f.window_start,
    f.window_end,
    f.channel,
    f.direction,
    f.team,
    f.handle_seconds,
    f.outcome,
    f.effort_score,
    f.exception_type,
    f.severity,
    f.detected_at,
    f.promised_date,
    f.order_status
from ranked as f
left join {{ ref('int_orders') }} as o using (order_id)
