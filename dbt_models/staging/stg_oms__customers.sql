-- Grain: one row per customer, the OMS row with the latest updated_at known at T.
-- A time zone that is not a valid IANA name is treated as unknown (null). The first name is the
-- only part of a name the loader keeps in raw (full names, emails and phones are in the private file).
-- Incremental (macros/incremental.sql): a run recomputes the customers that gained a known row.
{{ config(unique_key='customer_id', pre_hook="{{ collect_touched(keys_newly_known('oms_customers', 'customer_id', instant('updated_at')), 'customer_id') }}") }}
with known as (
    select *, {{ instant('updated_at') }} as updated_at_ts
    from {{ source('raw', 'oms_customers') }}
    where {{ known_at(instant('updated_at')) }}
{%- if is_incremental() %}
      and {{ is_touched('customer_id') }}
{%- endif %}
)
select
    customer_id,
    first_name,
    case when {{ is_time_zone('timezone') }} then timezone end as timezone,
    timezone as timezone_as_delivered,
    preferred_channel,
    consent_email,
    consent_sms,
    consent_phone,
    consent_whatsapp,
    marketing_opt_in,
    updated_at_ts as updated_at,
    {{ built_at() }} as _built_at
from known
{{ first_per('customer_id', 'updated_at_ts desc, _extract_date desc, _line_no desc') }}
