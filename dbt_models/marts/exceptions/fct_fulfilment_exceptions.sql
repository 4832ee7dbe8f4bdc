-- Grain: one row per exception (exception_id) that holds on the data known at T.
-- first_detected_at is the earliest run T (at or before this one) that saw it.
-- The published copy of int_exceptions_detected; its columns are the model's contract (_exceptions.yml).
select * from {{ ref('int_exceptions_detected') }}
