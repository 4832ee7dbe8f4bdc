-- Grain: one row per OMS fact about an order known at T: every order version (order_id,
-- valid_from: what changed from the version before) and every order line (order_id, line_no) in
-- its state at T. Part of fct_order_timeline.
{{ config(materialized='view') }}
with versions as (
    select *,
        row_number() over by_time as version_no,
        lag(order_status) over by_time as previous_status,
        lag(promised_date) over by_time as previous_promised,
        lag(order_total) over by_time as previous_total
    from {{ ref('stg_oms__order_versions') }}
    window by_time as (partition by order_id order by valid_from)
),
described as (
    select *,
        case when promised_date is distinct from previous_promised then {{ story_day('promised_date') }} end as moved_to
    from versions
)
select
    order_id,
    valid_from as happened_at,
    'oms' as source,
    'order_version' as fact,
    order_id || '@' || {{ format_time(to_local_time('valid_from', "'UTC'"), '%Y-%m-%dT%H:%M:%SZ') }} as source_key,
    case when version_no = 1
             then {{ say('order_placed', {'channel': phrase('sales_channel', 'sales_channel'), 'store': 'store_id',
                                          'promised': story_day('promised_date')}) }}
         when order_status is distinct from previous_status then case order_status
             when 'completed' then {{ say('order_completed', {'moved_to': 'moved_to'}) }}
             when 'cancelled' then {{ say('order_cancelled', {'moved_to': 'moved_to'}) }}
             else {{ say('order_reopened', {'moved_to': 'moved_to'}) }} end
         when moved_to is not null
             then {{ say('order_promise_moved', {'old_promised': story_day('previous_promised'), 'promised': 'moved_to'}) }}
         else {{ say('order_updated', {'total': "case when order_total is distinct from previous_total
                                                      then order_total || ' ' || currency end"}) }}
    end as summary,
    promised_date,
    order_status
from described

union all

select
    order_id,
    updated_at as happened_at,
    'oms' as source,
    'order_line' as fact,
    order_id || '/' || line_no as source_key,
    {{ say('order_line', {'quantity': 'quantity', 'description': 'description',
                          'fulfilment': 'coalesce(' ~ phrase('fulfilment', 'fulfilment_type') ~ ', fulfilment_type)'}) }} as summary,
    CAST(NULL AS DATE) as promised_date,
    CAST(NULL AS STRING) as order_status
from {{ ref('stg_oms__order_lines') }}
