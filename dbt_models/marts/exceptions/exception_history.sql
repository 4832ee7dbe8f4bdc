-- Grain: one row per exception and run (exception_id, detected_at): what each run's T saw.
-- Kept across runs (incremental), so an exception that later data disproves leaves
-- fct_fulfilment_exceptions but its history stays here. Re-running a T replaces that T's rows.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where detected_at = " ~ as_of() ~ "{% endif %}"
) }}
select
    exception_id,
    exception_type,
    exception_subtype,
    exception_key,
    order_id,
    severity,
    status,
    {{ as_of() }} as detected_at
from {{ ref('int_exceptions') }}
