-- Grain: one row per order, its state as of T (the latest updated_at known at T).
-- A view: the open-ended version of stg_oms__order_versions, which is kept incrementally.
{{ config(materialized='view') }}
select {{ star_except('', ['valid_from', 'valid_to', '_built_at']) }}, valid_from as updated_at
from {{ ref('stg_oms__order_versions') }}
where valid_to is null
