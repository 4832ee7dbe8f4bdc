-- Grain: one row per contractor event_id that occurred by T. Delivery is
-- at-least-once, so a repeated event_id counts once (its first delivery).
-- Unknown event types (not in the contractor_event_types seed) are kept with is_known_type =
-- false and trigger no rule.
-- Incremental (macros/incremental.sql): a run recomputes the event_ids that gained a known row.
{{ config(unique_key='event_id', pre_hook="{{ collect_touched(keys_newly_known('contractor_events', 'event_id', instant('occurred_at')), 'event_id') }}") }}
select
    event_id,
    event_type,
    event_type in (select event_type from {{ ref('contractor_event_types') }}) as is_known_type,
    {{ instant('occurred_at') }} as occurred_at,
    contractor_id,
    booking_id,
    order_id,
    tracking_ref,
    {{ instant('window_start') }} as window_start,
    {{ instant('window_end') }} as window_end,
    {{ wall_clock('window_start') }} as window_start_local,
    {{ wall_clock('window_end') }} as window_end_local,
    CAST({{ wall_clock('window_start') }} AS DATE) as window_local_date,
    initiated_by,
    reason_code,
    _extract_date as first_extract_date,
    {{ built_at() }} as _built_at
from {{ source('raw', 'contractor_events') }}
where {{ known_at(instant('occurred_at')) }}
{%- if is_incremental() %}
  and {{ is_touched('event_id') }}
{%- endif %}
{{ first_per('event_id', '_extract_date, _line_no') }}
