-- Grain: one row per customer and open order at T (customer_id, order_id): the customer's effort
-- on the order, as intermediate.int_customer_effort makes it (which outreach reads too), published
-- for analysts under its contract.
select * from {{ ref('int_customer_effort') }}
