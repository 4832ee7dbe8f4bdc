-- Grain: one row per exception in fct_fulfilment_exceptions (exception_id): its spell
-- (int_exception_spells) and its words (story_wording): the timeline's line when it opened and
-- when it was put right, and the short clause the outreach context tells it with (null for
-- high_effort_contact, which the context tells as effort). The facts behind the words: the booking
-- version a missed window or an excessive rebook started with (event_id), the version a late
-- cancellation ended (event_id), the promised date as known at T. Windows are told in the
-- customer's zone when known (story_local).
with exceptions as (
    select e.*, s.opened_at, s.resolved_at, s.resolved_how
    from {{ ref('int_exceptions_detected') }} as e
    join {{ ref('int_exception_spells') }} as s using (exception_id)
),
facts as (
    select e.*,
           {{ story_local('coalesce(started.window_start, ended.window_start)',
                          'coalesce(started.window_start_local, ended.window_start_local)', 'cu.timezone') }} as window_start_local,
           {{ story_local('coalesce(started.window_end, ended.window_end)',
                          'coalesce(started.window_end_local, ended.window_end_local)', 'cu.timezone') }} as window_end_local,
           started.window_local_date,
           {{ seconds_between('ended.superseded_at', 'ended.window_start') }} as notice_seconds,
           o.promised_date,
           c.agreed_date
    from exceptions as e
    left join {{ ref('int_booking_versions') }} as started
        on e.exception_type in ('missed_window', 'excessive_rebook_delay') and started.start_event_id = e.event_id
    left join {{ ref('int_booking_versions') }} as ended
        on e.exception_type = 'late_cancellation' and ended.ended_by_event_id = e.event_id
    left join {{ ref('int_orders') }} as o on o.order_id = e.order_id
    left join {{ ref('stg_contacts__contacts') }} as c on c.contact_id = e.contact_id
    left join {{ ref('stg_oms__customers') }} as cu on cu.customer_id = e.customer_id
),
words as (
    select *,
           {{ story_window('window_start_local', 'window_end_local') }} as window_text,
           {{ story_day('window_start_local') }} as day_text,
           {{ story_duration('notice_seconds') }} as notice_text,
           {{ story_day('window_local_date') }} as new_day_text,
           {{ days_after('window_local_date', 'promised_date') }} as days_late,
           {{ story_day('promised_date') }} as promised_text
    from facts
)
{%- set values = {'window': 'window_text', 'day': 'day_text', 'notice': 'notice_text', 'days': 'days_late',
                  'promised': 'promised_text', 'shipment': 'shipment_id', 'contractor': 'contractor_id',
                  'hours': "CASE exception_type WHEN 'stalled_handoff' THEN " ~ var('handoff_hours')
                           ~ " ELSE " ~ var('rebook_hours') ~ " END",
                  'agreed': story_day('agreed_date'), 'evidence': 'evidence'} %}
{%- set rebook = {} %}{% do rebook.update(values) %}{% do rebook.update({'day': 'new_day_text'}) %}
select
    exception_id,
    exception_type,
    exception_subtype,
    severity,
    status,
    order_id,
    customer_id,
    occurred_at,
    first_detected_at,
    opened_at,
    resolved_at,
    resolved_how,
    case when resolved_at is not null
         then {{ say('exception_resolved', {'label': phrase('label', 'exception_type'),
                                            'how': phrase('how', 'resolved_how')}) }} end as resolved_summary,
{#- the line when it opened (template <type>[.<subtype>]) and the context's clause
    (clause.<type>[.<subtype>]; none for high effort) -#}
{%- set subtypes = {'missed_window': ['no_show', 'failed_attempt', 'late_delivery'],
                    'late_cancellation': ['booking_cancelled', 'booking_rescheduled'],
                    'orphaned_reschedule': ['cancelled_not_rebooked', 'agreed_date_not_booked'],
                    'excessive_rebook_delay': [], 'double_booking': [], 'duplicate_shipment': [],
                    'stalled_handoff': [], 'high_effort_contact': [], 'at_risk_promise': []} %}
{%- set templates = story_templates() %}
{%- for column, prefix in [('opened_summary', ''), ('context_clause', 'clause.')] %}
    case exception_type
    {%- for type, kinds in subtypes.items() %}
        {%- set args = rebook if type == 'excessive_rebook_delay' else values %}
        when '{{ type }}' then
        {%- if kinds %} case exception_subtype
            {%- for kind in kinds %}
            {%- set key = prefix ~ type ~ '.' ~ kind if (prefix ~ type ~ '.' ~ kind) in templates else prefix ~ type %}
            when '{{ kind }}' then {{ say(key, args) }}
            {%- endfor %} end
        {%- else %} {{ say(prefix ~ type, args) if (prefix ~ type) in templates else 'null' }}
        {%- endif %}
    {%- endfor %}
    end as {{ column }}{{ ',' if loop.first }}
{%- endfor %}
from words
