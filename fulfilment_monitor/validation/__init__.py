"""The data-quality gate, in small modules (entry points: `fulfilment_monitor.validate`).

Kept free of imports here: the loader imports `validation.store` and `validation.outcome`,
and Great Expectations is only imported when something is validated.
"""
