-- Grain: one row per thing this pipeline found about an order at T: each exception when it
-- opened (when the promise broke, or when first detected if earlier) and when it was put right
-- (int_exception_story), and the outreach case queued at T. Part of fct_order_timeline.
{{ config(materialized='view') }}
select
    order_id,
    opened_at as happened_at,
    'monitor' as source,
    'exception_opened' as fact,
    exception_id as source_key,
    opened_summary as summary,
    exception_id,
    exception_type,
    severity,
    first_detected_at as detected_at,
    CAST(NULL AS STRING) as case_id
from {{ ref('int_exception_story') }}
where order_id is not null

union all

select
    order_id,
    resolved_at as happened_at,
    'monitor' as source,
    'exception_resolved' as fact,
    exception_id as source_key,
    resolved_summary as summary,
    exception_id,
    exception_type,
    severity,
    first_detected_at as detected_at,
    CAST(NULL AS STRING) as case_id
from {{ ref('int_exception_story') }}
where order_id is not null and resolved_at is not null

union all

select
    q.order_id,
    {{ as_of() }} as happened_at,
    'monitor' as source,
    'outreach_queued' as fact,
    q.case_id as source_key,
    {{ say('outreach_queued', {
        'priority': 'q.priority', 'channel': phrase('outreach_channel', 'q.channel'),
        'send_after': story_time(to_local_time('q.send_after', "coalesce(cu.timezone, 'UTC')")),
        'held': 'q.suppressed_reason', 'escalate': phrase('escalate', 'q.escalate')}) }} as summary,
    CAST(NULL AS STRING) as exception_id,
    CAST(NULL AS STRING) as exception_type,
    CAST(NULL AS STRING) as severity,
    CAST(NULL AS {{ instant_type() }}) as detected_at,
    q.case_id
from {{ ref('int_outreach_queue') }} as q
left join {{ ref('stg_oms__customers') }} as cu using (customer_id)
