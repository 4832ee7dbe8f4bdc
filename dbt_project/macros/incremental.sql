{# Incremental models: a night costs what became known that night.

   Staging. A staging model is a function of the raw rows known at T (known_at), computed per
   key (an event, a customer, an order's versions, ...). From one run at T_prev to a later run
   at T the known rows only grow: rows of drops loaded since (a late drop for an old date too),
   and rows of drops already loaded that became known because T moved on. So a run recomputes,
   with the same SQL as a full build, only the keys such rows touch (keys_newly_known), and
   replaces those keys; every other key's rows are what a full build at T would give.

   Downstream of staging. The intermediate models kept per booking, contact, shipment or order
   are functions of staging (not of T). Every row an incremental model writes carries
   _built_at, the start of the dbt run that wrote it; a downstream model recomputes the keys
   whose inputs were rewritten since its own last build (changed_since_last_build), widened
   by the raw copies of those inputs so that a key an input used to point at is redone too.

   incremental_state remembers, per model and in the same transaction as the model's rows, the
   T it was built at, the loads of the ledger (audit.drops) it had, and the run that built it.
   A run whose T is before that (a backfill) would have to forget rows, so transform.py
   rebuilds in full then (dbt --full-refresh); see full_refresh_reason(). #}

{% macro incremental_state() -%}
    staging.incremental_state
{%- endmacro %}

{# on-run-start: the state table exists before any model reads it. #}
{% macro create_incremental_state() -%}
    {%- if builds_incrementally() %}
    create schema if not exists staging;
    create table if not exists {{ incremental_state() }} (
        model VARCHAR PRIMARY KEY,
        as_of TIMESTAMPTZ NOT NULL,      -- the T this model was last built at
        load_ids VARCHAR[] NOT NULL,     -- audit.drops.load_id of every load it had then
        built_at TIMESTAMPTZ NOT NULL    -- the start of the dbt run that built it (see built_at())
    )
    {%- endif %}
{%- endmacro %}

{# post-hook of every incremental model, inside its transaction. #}
{% macro record_increment() -%}
    {%- if config.get('materialized') == 'incremental' and builds_incrementally() -%}
    insert or replace into {{ incremental_state() }}
    select '{{ this.identifier }}', {{ as_of() }}, coalesce(list(load_id order by load_id), []), {{ built_at() }}
    from {{ source('audit', 'drops') }}
    where status = 'loaded'
    {%- endif -%}
{%- endmacro %}

{# The start of this dbt run: every incremental model stamps the rows it writes with it (_built_at). #}
{% macro built_at() -%}
    CAST('{{ run_started_at.isoformat() }}' AS {{ instant_type() }})
{%- endmacro %}

{% macro last_build(column) -%}
    (select {{ column }} from {{ incremental_state() }} where model = '{{ this.identifier }}')
{%- endmacro %}

{# pre-hook of an incremental model: the keys this run recomputes (`keys_sql`, one column `key`)
   go into the temp table `touched`, which the model reads back (is_touched). Computed once,
   with exact statistics, so the optimizer hashes the few touched keys, not the whole input.
   `replace` also deletes their rows now, for models where a key can lose all its rows (the
   model then appends); the others replace by unique_key (delete+insert). #}
{% macro collect_touched(keys_sql, key, replace=false) -%}
    {%- if is_incremental() -%}
    create or replace temp table touched as {{ keys_sql }};
    {%- if replace %}
    delete from {{ this }} where {{ key }} in (select {{ key }} from touched);
    {%- endif %}
    {%- endif -%}
{%- endmacro %}

{% macro is_touched(column) -%}
    {{ column }} in (select * from touched)
{%- endmacro %}

{# The keys (`key`, a column list) of `raw_table` that gained a known row since the model's
   last build: rows known at T that the last build did not see, because their load is new to
   it or they were not known yet at its T. `stamp` is the fact's instant, as for known_at(). #}
{% macro keys_newly_known(raw_table, key, stamp=none) -%}
    select {{ key }}
    from {{ source('raw', raw_table) }}
    where {{ known_at(stamp) }}
      and not (
          _load_id in (select unnest(load_ids) from {{ incremental_state() }} where model = '{{ this.identifier }}')
          and coalesce({{ known_at(stamp, at=last_build('as_of')) }}, false))
{%- endmacro %}

{# The rows of an incremental model `relation` rewritten since this model's own last build. #}
{% macro changed_since_last_build(relation) -%}
    (select * from {{ relation }}
     where _built_at > coalesce({{ last_build('built_at') }}, CAST('-infinity' AS TIMESTAMPTZ)))
{%- endmacro %}

{# Bookings whose events changed: every raw copy of a changed event names its booking, so an
   event that moved to another booking touches both. #}
{% macro bookings_changed() -%}
    select booking_id from {{ source('raw', 'contractor_events') }}
    where event_id in (select event_id from {{ changed_since_last_build(ref('stg_contractor__events')) }})
{%- endmacro %}

{# Contacts whose attribution may have changed: changed contacts, and every contact of a
   customer one of whose orders (any raw copy) gained a version. #}
{% macro contacts_changed() -%}
    select contact_id from {{ changed_since_last_build(ref('stg_contacts__contacts')) }}
    union
    select contact_id from {{ ref('stg_contacts__contacts') }}
    where customer_id in (
        select customer_id from {{ source('raw', 'oms_orders') }}
        where order_id in (select order_id from {{ changed_since_last_build(ref('stg_oms__order_versions')) }}))
{%- endmacro %}

{# Shipments whose delivery outcomes may have changed (int_shipment_delivery_events): changed
   shipments, and every shipment that a changed event, or an event of a booking with a changed
   event, matches or used to match - by any tracking_ref or order_id a raw copy of such an
   event carries - and the replacements of all of those. #}
{% macro shipments_changed() -%}
    with bookings as (
        {{ bookings_changed() }}
    ),
    events as (
        select tracking_ref, order_id from {{ source('raw', 'contractor_events') }}
        where booking_id in (select booking_id from bookings)
           or event_id in (select event_id from {{ changed_since_last_build(ref('stg_contractor__events')) }})
    ),
    matched as (
        select shipment_id from {{ changed_since_last_build(ref('stg_wms__shipments')) }}
        union
        select shipment_id from {{ ref('stg_wms__shipments') }}
        where tracking_ref in (select tracking_ref from events) or order_id in (select order_id from events)
    )
    select shipment_id from matched
    union
    select shipment_id from {{ ref('stg_wms__shipments') }}
    where replaces_shipment_id in (select shipment_id from matched)
{%- endmacro %}

{# Orders whose line quantities may have changed: changed order lines, and the orders (every
   raw copy's) of shipments with changed lines or a changed outcome. #}
{% macro orders_changed() -%}
    select order_id from {{ changed_since_last_build(ref('stg_oms__order_lines')) }}
    union
    select order_id from {{ source('raw', 'wms_shipments') }}
    where shipment_id in (select shipment_id from {{ changed_since_last_build(ref('stg_wms__shipment_lines')) }}
                          union
                          select shipment_id from {{ changed_since_last_build(ref('int_shipments')) }})
{%- endmacro %}

{# int_metric_windows: bookings whose events changed, and bookings a version of which fell due
   (window_deadline) after the last build's T and by T. #}
{% macro metric_windows_touched() -%}
    {{ bookings_changed() }}
    union
    select booking_id from {{ ref('int_booking_versions') }}
    where {{ window_deadline('window_end') }} > {{ last_build('as_of') }}
      and {{ window_deadline('window_end') }} <= {{ as_of() }}
{%- endmacro %}

{# int_metric_promises: orders whose versions, customer or fulfilment changed, and orders whose
   promised date ended (promise_deadline) after the last build's T and by T. #}
{% macro metric_promises_touched() -%}
    select order_id from {{ changed_since_last_build(ref('stg_oms__order_versions')) }}
    union
    select order_id from {{ changed_since_last_build(ref('int_order_fulfilment')) }}
    union
    select o.order_id
    from {{ ref('int_orders') }} as o
    left join {{ ref('stg_oms__customers') }} as c using (customer_id)
    where c.customer_id in (select customer_id from {{ changed_since_last_build(ref('stg_oms__customers')) }})
       or ({{ promise_deadline('o.promised_date', 'c.timezone') }} > {{ last_build('as_of') }}
           and {{ promise_deadline('o.promised_date', 'c.timezone') }} <= {{ as_of() }})
{%- endmacro %}
