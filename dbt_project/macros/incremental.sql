{# Incremental staging: a night costs what became known that night.

   A staging model is a function of the raw rows known at T (known_at), computed per key
   (an event, a customer, an order's versions, ...). From one run at T_prev to a later run at
   T the known rows only grow: rows of drops loaded since (a late drop for an old date too),
   and rows of drops already loaded that became known because T moved on. So a run recomputes,
   with the same SQL as a full build, only the keys such rows touch, and replaces those keys
   (delete+insert); every other key's rows are what a full build at T would give.

   incremental_state remembers, per model and in the same transaction as the model's rows,
   the T it was built at and the loads of the ledger (audit.drops) it had. A run whose T is
   before that (a backfill) would have to forget rows, so transform.py rebuilds in full
   then (dbt --full-refresh); see its needs_full_refresh(). #}

{% macro incremental_state() -%}
    staging.incremental_state
{%- endmacro %}

{# on-run-start: the state table exists before any model reads it. #}
{% macro create_incremental_state() -%}
    create schema if not exists staging;
    create table if not exists {{ incremental_state() }} (
        model VARCHAR PRIMARY KEY,
        as_of TIMESTAMPTZ NOT NULL,      -- the T this model was last built at
        load_ids VARCHAR[] NOT NULL      -- audit.drops.load_id of every load it had then
    )
{%- endmacro %}

{# post-hook of every incremental staging model, inside its transaction. #}
{% macro record_increment() -%}
    {%- if config.get('materialized') == 'incremental' -%}
    insert or replace into {{ incremental_state() }}
    select '{{ this.identifier }}', {{ as_of() }}, coalesce(list(load_id order by load_id), [])
    from {{ source('audit', 'drops') }}
    where status = 'loaded'
    {%- endif -%}
{%- endmacro %}

{# The keys (`key`, a column list) of `raw_table` that gained a known row since the model's
   last build: rows known at T that the last build did not see, because their load is new to
   it or they were not known yet at its T. `stamp` is the fact's instant, as for known_at(). #}
{% macro keys_newly_known(raw_table, key, stamp=none) -%}
    {%- set previous = "(select as_of from " ~ incremental_state() ~ " where model = '" ~ this.identifier ~ "')" -%}
    select {{ key }}
    from {{ source('raw', raw_table) }}
    where {{ known_at(stamp) }}
      and not (
          _load_id in (select unnest(load_ids) from {{ incremental_state() }} where model = '{{ this.identifier }}')
          and coalesce({{ known_at(stamp, at=previous) }}, false))
{%- endmacro %}

{# Incremental intermediate models recompute per booking or contact: the keys below are the
   ones whose inputs changed since the model's own last build, derived from raw rows newly
   known to it (every copy of a changed event names its booking, so an event that moved to
   another booking touches both). #}
{% macro bookings_newly_known() -%}
    select booking_id from {{ source('raw', 'contractor_events') }}
    where event_id in ({{ keys_newly_known('contractor_events', 'event_id', instant('occurred_at')) }})
{%- endmacro %}

{# Contacts whose attribution may have changed: new or changed contacts, and every contact of a
   customer one of whose orders gained a known version. #}
{% macro contacts_newly_known() -%}
    select contact_id from {{ source('raw', 'contacts_contacts') }}
    where contact_id in ({{ keys_newly_known('contacts_contacts', 'contact_id', instant('started_at')) }})
    union
    select contact_id from {{ ref('stg_contacts__contacts') }}
    where customer_id in (
        select customer_id from {{ source('raw', 'oms_orders') }}
        where order_id in ({{ keys_newly_known('oms_orders', 'order_id', instant('updated_at')) }}))
{%- endmacro %}
