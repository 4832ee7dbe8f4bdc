"""The data-quality gate, in small modules: `drop_gate.DropGate` judges drops before they load,
`mart_gate.validate_marts` checks the marts before they publish, `page` shows what was checked.

Kept free of imports here: the loader imports `validation.store` and `validation.outcome`,
and Great Expectations is only imported when something is validated.
"""
