-- Grain: one row per exception and run (exception_id, detected_at): what each run's T saw.
-- Kept across runs (incremental), so an exception that later data disproves leaves
-- fct_fulfilment_exceptions but its history stays here. Re-running a T replaces that T's rows.
-- History cannot be rebuilt from the data, so a full refresh (--full-refresh) leaves it alone.
{{ config(materialized='incremental', full_refresh=false, **history_append('detected_at')) }}
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
