-- Grain: one row per customer and order (case_id) that ops should contact proactively today, as
-- intermediate.int_outreach_queue makes it (which the order's story reads too), published for
-- analysts and ops under its contract.
select * from {{ ref('int_outreach_queue') }}
