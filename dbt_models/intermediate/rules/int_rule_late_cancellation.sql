-- Grain: one row per contractor-initiated booking_cancelled / booking_rescheduled event
-- (key event_id) less than late_cancel_hours before the window start of the version it
-- ends, and not after that start.
select
    {{ exception_columns(
        type='late_cancellation', subtype='ended_by_type', key='ended_by_event_id',
        order_id='order_id', booking_id='booking_id', event_id='ended_by_event_id',
        contractor_id='contractor_id', occurred_at='superseded_at',
        evidence="replace(ended_by_type, 'booking_', '') || ' by the contractor'
                  || coalesce(' (' || ended_by_reason || ')', '') || ' '
                  || round(" ~ seconds_between('superseded_at', 'window_start') ~ " / 3600, 1) || 'h before the '
                  || " ~ fmt_local('window_start_local') ~ " || ' window'") }}
from {{ ref('int_booking_versions') }}
where ended_by_type in ('booking_cancelled', 'booking_rescheduled')
  and ended_by_initiator = 'contractor'
  and superseded_at <= window_start
  and window_start - superseded_at < {{ hours(var('late_cancel_hours')) }}
