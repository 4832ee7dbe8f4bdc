-- Grain: one row per shipment (key shipment_id) with no contractor event carrying its
-- tracking_ref that occurred from dispatched_at to dispatched_at + handoff_hours, once that
-- moment has passed by T. Events of unknown type count for nothing.
select
    {{ exception_columns(
        type='stalled_handoff', key='s.shipment_id', order_id='s.order_id',
        shipment_id='s.shipment_id', contractor_id='s.contractor_id', warehouse_id='s.warehouse_id',
        occurred_at="s.dispatched_at + " ~ hours(var('handoff_hours')),
        evidence="'dispatched ' || " ~ fmt_utc('s.dispatched_at') ~ " || ' from ' || s.warehouse_id
                  || ' to ' || s.contractor_id || ' as ' || s.tracking_ref
                  || '; no contractor event within ' || " ~ var('handoff_hours') ~ " || 'h'") }}
from {{ ref('stg_wms__shipments') }} as s
where s.dispatched_at + {{ hours(var('handoff_hours')) }} <= {{ as_of() }}
  and not exists (
      select 1 from {{ ref('stg_contractor__events') }} as e
      where e.tracking_ref = s.tracking_ref and e.is_known_type
        and e.occurred_at between s.dispatched_at and s.dispatched_at + {{ hours(var('handoff_hours')) }})
