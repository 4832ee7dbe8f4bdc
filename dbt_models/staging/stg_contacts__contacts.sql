-- Grain: one row per contact_id started by T.
select
    contact_id, customer_id, order_id, channel, direction, team,
    {{ instant('started_at') }} as started_at,
    handle_seconds, reason, outcome, agreed_date, responded
from {{ source('raw', 'contacts_contacts') }}
where {{ known_at(instant('started_at')) }}
{{ first_per('contact_id', '_extract_date, _line_no') }}
