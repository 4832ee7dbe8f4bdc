-- Grain: one row per contact_id started by T (a contact re-sent in a later drop counts once).
-- Incremental (macros/incremental.sql): a run recomputes the contact_ids that gained a known row.
{{ config(unique_key='contact_id', pre_hook="{{ collect_touched(keys_newly_known('contacts_contacts', 'contact_id', instant('started_at')), 'contact_id') }}") }}
select
    contact_id, customer_id, order_id, channel, direction, team,
    {{ instant('started_at') }} as started_at,
    handle_seconds, reason, outcome, agreed_date, responded,
    {{ built_at() }} as _built_at
from {{ source('raw', 'contacts_contacts') }}
where {{ known_at(instant('started_at')) }}
{%- if is_incremental() %}
  and {{ is_touched('contact_id') }}
{%- endif %}
{{ first_per('contact_id', '_extract_date, _line_no') }}
