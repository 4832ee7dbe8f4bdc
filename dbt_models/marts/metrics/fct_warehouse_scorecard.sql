-- Grain: one row per UTC day and warehouse (metric_date, warehouse_id), every day of
-- int_metric_days for every warehouse that dispatched a shipment by T. Shipments by the UTC
-- date of dispatched_at: a handoff is due once dispatched_at + handoff_hours has passed by T,
-- and on time unless the stalled_handoff rule flagged it. Exceptions by the UTC date of occurred_at.
with warehouses as (
    select distinct warehouse_id from {{ ref('stg_wms__shipments') }} where warehouse_id is not null
),
stalled as (
    select shipment_id from {{ ref('int_exceptions') }} where exception_type = 'stalled_handoff'
),
shipments as (
    select {{ utc_date('s.dispatched_at') }} as metric_date, s.warehouse_id,
           count(*) as shipments_dispatched,
           count(*) filter (where s.dispatched_at + {{ hours(var('handoff_hours')) }} <= {{ as_of() }}) as handoffs_due,
           count(*) filter (where s.dispatched_at + {{ hours(var('handoff_hours')) }} <= {{ as_of() }}
                              and st.shipment_id is null) as handoffs_on_time
    from {{ ref('stg_wms__shipments') }} as s
    left join stalled as st using (shipment_id)
    group by all
),
exceptions as (
    {{ exceptions_per_day('warehouse_id', [('duplicate_shipment', 'duplicate_shipments')]) }}
)
select
    d.metric_date,
    w.warehouse_id,
    coalesce(s.shipments_dispatched, 0) as shipments_dispatched,
    {{ rate_columns('s', 'handoffs_on_time', 'handoffs_due', 'handoff_rate') }},
    coalesce(e.exceptions, 0) as exceptions,
    coalesce(e.open_exceptions, 0) as open_exceptions,
    coalesce(e.duplicate_shipments, 0) as duplicate_shipments
from {{ ref('int_metric_days') }} as d
cross join warehouses as w
left join shipments as s using (metric_date, warehouse_id)
left join exceptions as e using (metric_date, warehouse_id)
