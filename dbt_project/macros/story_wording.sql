{#- Every word of an order's story: the one-line summaries of marts.fct_order_timeline and the
    outreach queue's `context`. Support staff read these (and may read them out to a customer),
    so they live here and nowhere else, where they can be reviewed in one place; the models only
    bind values to the placeholders.

    Templates: {name} is a value the model binds (a SQL expression); [ ... ] is an optional
    part, left out when any value inside it is null. A template whose required value is null
    says nothing (null), so a model can offer a fuller and a plainer template:
    coalesce(say('full', ...), say('plain', ...)). No template may name an email address, a
    phone number or a customer's full name; only `context` names the customer, by first name. -#}

{% macro story_templates() %}
{%- set templates = {} -%}
{#- oms: order versions and lines -#}
{%- do templates.update({
    'order_placed': "Order placed {channel}[ ({store})], promised for {promised}",
    'order_completed': "Order completed[; promised date now {moved_to}]",
    'order_cancelled': "Order cancelled[; promised date now {moved_to}]",
    'order_reopened': "Order reopened[; promised date now {moved_to}]",
    'order_promise_moved': "Promised date moved from {old_promised} to {promised}",
    'order_updated': "Order details updated[: total now {total}]",
    'order_line': "Ordered {quantity} × {description} ({fulfilment})",
}) -%}
{#- wms: shipments, with their lines -#}
{%- do templates.update({
    'unit': "{quantity} × {description}",
    'unit_of_line': "{quantity} × line {line_no}",
    'shipment_initial': "Dispatched[ {units}] from {warehouse} to {contractor}",
    'shipment_split': "Dispatched the rest of the order[, {units},] from {warehouse} to {contractor}",
    'shipment_replacement': "Dispatched a replacement for {replaces}[, {units},] from {warehouse} to {contractor}",
}) -%}
{#- contractor: booking versions and events -#}
{%- do templates.update({
    'received_from_warehouse': "{contractor} took over the goods from the warehouse[ (tracking {tracking})]",
    'booking_created': "{contractor} booked delivery for {day}, {window}",
    'booking_created_plain': "{contractor} booked a delivery",
    'booking_rescheduled': "{who} moved the {old_day} {old_window} booking to {day}, {window}[, {notice} before it was due to start][ ({reason})]",
    'booking_rescheduled_plain': "{who} moved the booking[ to {day}, {window}][ ({reason})]",
    'booking_cancelled': "{who} cancelled the {old_day} {old_window} booking[ {notice} before it started][ ({reason})]",
    'booking_cancelled_plain': "{who} cancelled the booking[ ({reason})]",
    'out_for_delivery': "Out for delivery",
    'delivered_in_window': "Delivered within the {window} window",
    'delivered_late': "Delivered {late} after the {window} window closed",
    'delivered_early': "Delivered before the {window} window opened",
    'delivered': "Delivered",
    'delivery_failed': "Delivery attempt failed[ ({reason})]",
    'unknown_event': "{contractor} sent an event of a kind we do not know yet: {event_type}",
}) -%}
{#- contacts -#}
{%- do templates.update({
    'contact_inbound': "The customer {verb}[ {reason}][ ({duration} with the {team})]: {outcome}[ for {agreed}][ ({unlinked})]",
    'contact_outbound': "We {verb} the customer[ {reason}]: {outcome}[, {reply}]",
}) -%}
{#- monitor: exceptions when they opened and when they were put right, outreach queued -#}
{%- do templates.update({
    'missed_window.no_show': "Missed window: nobody came in the {window} window on {day}",
    'missed_window.failed_attempt': "Missed window: the delivery attempt in the {window} window on {day} failed",
    'missed_window.late_delivery': "Missed window: the {window} window on {day} passed without a delivery (it came later)",
    'late_cancellation.booking_cancelled': "Late cancellation: the contractor cancelled the {day} {window} booking {notice} before it started",
    'late_cancellation.booking_rescheduled': "Late cancellation: the contractor moved the {day} {window} booking {notice} before it started",
    'excessive_rebook_delay': "Rebooked too late: the new date, {day}, is {days} days after the promised {promised}",
    'double_booking': "Double booking: two bookings for the same goods were live at once",
    'duplicate_shipment': "Duplicate shipment: more was dispatched than was ordered[ (shipment {shipment})]",
    'stalled_handoff': "Stalled hand-over: {contractor} did not confirm receiving shipment {shipment} within {hours} h of dispatch",
    'orphaned_reschedule.cancelled_not_rebooked': "Orphaned cancellation: the booking was cancelled and nothing was rebooked within {hours} h",
    'orphaned_reschedule.agreed_date_not_booked': "Orphaned agreement: the date agreed with the customer[, {agreed},] was not booked within {hours} h",
    'high_effort_contact': "High customer effort: {evidence}",
    'at_risk_promise': "Promise at risk: {evidence}",
    'exception_resolved': "Put right: {label}[ ({how})]",
    'outreach_queued': "Outreach queued, priority {priority}[: {channel} from {send_after}][; held: {held}][; {escalate}]",
}) -%}
{#- context: what broke, what the customer already did, how much effort so far -#}
{%- do templates.update({
    'clause.missed_window': "missed the {window} window on {day}",
    'clause.late_cancellation.booking_cancelled': "the contractor cancelled the {day} booking {notice} before it started",
    'clause.late_cancellation.booking_rescheduled': "the contractor moved the {day} booking {notice} before it started",
    'clause.excessive_rebook_delay': "rebooked for {day}, {days} days after the promised date",
    'clause.double_booking': "two bookings were live at once",
    'clause.duplicate_shipment': "the goods were dispatched twice",
    'clause.stalled_handoff': "the contractor never confirmed receiving the goods",
    'clause.orphaned_reschedule.cancelled_not_rebooked': "a cancelled booking was not rebooked",
    'clause.orphaned_reschedule.agreed_date_not_booked': "a date agreed with the customer was not booked",
    'clause.at_risk_promise': "the promise for {promised} is at risk",
    'clause_repeated': "{clause} ({times} times)",
    'context_contacted': "[{what_broke}. ]{name} has contacted us {contacts} on {channels} ({channel_list}) since {first_day}[, {handled} with our agents][, {transfers}]; effort so far {score}/100.",
    'context_not_contacted': "[{what_broke}. ]{name} has not contacted us about it yet.",
    'unnamed_customer': "The customer",
    'count.contacts': ["once", "{n} times"],
    'count.channels': ["1 channel", "{n} channels"],
    'count.transfers': ["1 transfer", "{n} transfers"],
}) -%}
{{ return(templates) }}
{% endmacro %}

{#- Values as words, by kind; `none` is the word for a null value (no entry: stays null). -#}
{% macro story_phrases() %}
{{ return({
    'sales_channel': {'web': 'online', 'app': 'in the app', 'store': 'in a store', 'phone': 'by phone'},
    'fulfilment': {'parcel': 'parcel', 'two_person': 'two-person delivery', 'install': 'delivery and installation'},
    'who': {'customer': 'The customer', 'contractor': 'The contractor', 'retailer': 'We', none: 'Someone'},
    'reason': {'capacity': 'no capacity', 'vehicle': 'vehicle problem', 'customer_request': "at the customer's request",
               'not_home': 'nobody at home', 'access': 'no access', 'damaged': 'goods damaged', 'lost': 'goods lost',
               'retailer_request': 'at our request', 'weather': 'weather'},
    'verb_inbound': {'phone': 'phoned', 'email': 'emailed', 'sms': 'texted', 'whatsapp': 'wrote on WhatsApp',
                     'chat': 'chatted online', 'social': 'wrote on social media', 'store': 'came into the store'},
    'verb_outbound': {'phone': 'phoned', 'email': 'emailed', 'sms': 'texted', 'whatsapp': 'messaged',
                      'chat': 'chatted with', 'social': 'messaged', 'store': 'saw'},
    'reason_inbound': {'wismo': 'about where the order is', 'reschedule': 'to reschedule', 'complaint': 'to complain',
                       'cancel': 'to cancel', 'upsell': 'about an offer', 'survey': 'about a survey',
                       'notification': 'about a notification'},
    'reason_outbound': {'wismo': 'about the delivery', 'reschedule': 'to reschedule', 'complaint': 'about a complaint',
                        'cancel': 'about cancelling', 'upsell': 'with an offer', 'survey': 'with a survey',
                        'notification': 'with a delivery update'},
    'team': {'store': 'store team', 'contact_centre': 'contact centre', 'social': 'social media team',
             'delivery_desk': 'delivery desk', 'marketing': 'marketing team'},
    'outcome': {'resolved': 'resolved', 'unresolved': 'not resolved', 'transferred': 'passed to another team',
                'reschedule_agreed': 'agreed a new delivery date', 'callback_promised': 'we promised to call back',
                'no_answer': 'no answer', 'sent': 'sent'},
    'reply': {true: 'the customer replied', false: 'no reply'},
    'unlinked': {'inferred': "no order named; counted for the customer's only open order"},
    'label': {'missed_window': 'missed window', 'late_cancellation': 'late cancellation',
              'excessive_rebook_delay': 'rebooked too late', 'double_booking': 'double booking',
              'duplicate_shipment': 'duplicate shipment', 'stalled_handoff': 'stalled hand-over',
              'orphaned_reschedule': 'orphaned reschedule', 'high_effort_contact': 'high customer effort',
              'at_risk_promise': 'promise at risk'},
    'how': {'booking_delivered': 'the booking was delivered', 'delivered_in_full': 'the order was delivered in full',
            'order_completed': 'the order was completed', 'order_cancelled': 'the order was cancelled',
            'seen_resolved': 'a later run found it put right'},
    'outreach_channel': {'email': 'email', 'sms': 'SMS', 'phone': 'phone call', 'whatsapp': 'WhatsApp'},
    'escalate': {true: 'a person should call'},
    'channel_name': {'phone': 'phone', 'email': 'email', 'sms': 'SMS', 'whatsapp': 'WhatsApp', 'chat': 'chat',
                     'social': 'social media', 'store': 'in store'},
}) }}
{% endmacro %}

{#- The template `key` with its placeholders bound to SQL expressions (`args`: name -> SQL). -#}
{% macro say(key, args) -%}
    {%- set templates = story_templates() -%}
    {%- if key not in templates -%}
        {{ exceptions.raise_compiler_error("story_wording: no template '" ~ key ~ "'") }}
    {%- endif -%}
    {{ _story_sql(templates[key], args, key) }}
{%- endmacro %}

{#- A count in words: the key's [one, many] templates with {n}. -#}
{% macro say_count(key, n_sql) -%}
    {%- set one, many = story_templates()[key] -%}
    (CASE WHEN {{ n_sql }} = 1 THEN {{ _story_sql(one, {'n': n_sql}, key) }}
          ELSE {{ _story_sql(many, {'n': n_sql}, key) }} END)
{%- endmacro %}

{#- A value as a word of its kind; values with no entry stay null (so an optional part drops),
    or with `fallback`, read as written (free-ish codes like reason codes: 'no_van' -> 'no van'). -#}
{% macro phrase(kind, value_sql, fallback=false) -%}
    (CASE
    {%- for value, words in story_phrases()[kind].items() %}
        {% if value is none %}WHEN {{ value_sql }} IS NULL{% elif value is sameas true or value is sameas false %}WHEN {{ value_sql }} = {{ value }}{% else %}WHEN {{ value_sql }} = '{{ value }}'{% endif %} THEN '{{ words | replace("'", "''") }}'
    {%- endfor %}
    {%- if fallback %}
        ELSE replace({{ value_sql }}, '_', ' '){# a code we have no words for yet, as written #}
    {%- endif %}
    END)
{%- endmacro %}

{#- Wall-clock formats of the story: a day (Sat 10 Oct), a window's hours (8–12, 8:30–12:30),
    a moment (Sat 10 Oct 09:00), a duration (45 min, 14 h, 3 days) and agent time (25 min,
    1 h 20 min). -#}
{% macro story_day(ts) -%}
    {{ format_time(ts, '%a %-d %b') }}
{%- endmacro %}

{% macro story_time(ts) -%}
    {{ format_time(ts, '%a %-d %b %H:%M') }}
{%- endmacro %}

{#- A window's wall clock as the customer lives it: the instant in the delivery address's zone
    (stg_oms__customers.timezone) when known, else as the contractor wrote it (a contractor that
    writes UTC would otherwise show a New York customer a 13-17 window for their 8-12). -#}
{% macro story_local(instant, written_local, zone) -%}
    (CASE WHEN {{ zone }} IS NULL THEN {{ written_local }} ELSE {{ to_local_time(instant, zone) }} END)
{%- endmacro %}

{% macro story_window(start_local, end_local) -%}
    ({{ _story_hour(start_local) }} || '–' || {{ _story_hour(end_local) }})
{%- endmacro %}

{% macro _story_hour(ts) -%}
    (CAST(hour({{ ts }}) AS STRING)
     || CASE WHEN minute({{ ts }}) > 0 THEN ':' || lpad(CAST(minute({{ ts }}) AS STRING), 2, '0') ELSE '' END)
{%- endmacro %}

{% macro story_duration(seconds) -%}
    (CASE WHEN {{ seconds }} < 3600 THEN CAST(round({{ seconds }} / 60) AS BIGINT) || ' min'
          WHEN {{ seconds }} < 172800 THEN CAST(round({{ seconds }} / 3600) AS BIGINT) || ' h'
          ELSE CAST(round({{ seconds }} / 86400) AS BIGINT) || ' days' END)
{%- endmacro %}

{% macro story_agent_time(seconds) -%}
    (CASE WHEN {{ seconds }} < 60 THEN CAST({{ seconds }} AS BIGINT) || ' s'
          WHEN {{ seconds }} < 3600 THEN CAST({{ quotient(seconds, 60) }} AS BIGINT) || ' min'
          ELSE CAST({{ quotient(seconds, 3600) }} AS BIGINT) || ' h'
               || CASE WHEN {{ seconds }} % 3600 >= 60 THEN ' ' || CAST({{ quotient(seconds ~ ' % 3600', 60) }} AS BIGINT) || ' min' ELSE '' END
     END)
{%- endmacro %}

{#- A template as one SQL expression: literals and bound values concatenated, each optional part
    coalesced to ''. -#}
{% macro _story_sql(template, args, key) -%}
    {%- set parts = [] -%}
    {%- for chunk in template.split('[') -%}
        {%- if loop.first -%}
            {%- do parts.extend(_story_pieces(chunk, args, key)) -%}
        {%- else -%}
            {%- set pair = chunk.split(']', 1) -%}
            {%- if pair | length != 2 -%}
                {{ exceptions.raise_compiler_error("story_wording: unclosed [ in '" ~ key ~ "'") }}
            {%- endif -%}
            {%- set optional = _story_pieces(pair[0], args, key) -%}
            {%- do parts.append("coalesce(" ~ (optional | join(' || ')) ~ ", '')") -%}
            {%- do parts.extend(_story_pieces(pair[1], args, key)) -%}
        {%- endif -%}
    {%- endfor -%}
    ({{ parts | join(' || ') if parts else "''" }})
{%- endmacro %}

{% macro _story_pieces(text, args, key) -%}
    {%- set pieces = [] -%}
    {%- for chunk in text.split('{') -%}
        {%- if loop.first -%}
            {%- set literal = chunk -%}
        {%- else -%}
            {%- set pair = chunk.split('}', 1) -%}
            {%- if pair | length != 2 or pair[0] not in args -%}
                {{ exceptions.raise_compiler_error("story_wording: '" ~ key ~ "' needs a value for {" ~ pair[0] ~ "}") }}
            {%- endif -%}
            {%- do pieces.append("CAST(" ~ args[pair[0]] ~ " AS STRING)") -%}
            {%- set literal = pair[1] -%}
        {%- endif -%}
        {%- if literal -%}
            {%- do pieces.append("'" ~ literal | replace("'", "''") ~ "'") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(pieces) }}
{%- endmacro %}
