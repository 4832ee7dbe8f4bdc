"""Run the scenario catalogue on a World: every scenario's instances, then the clean orders, in
vectorised batches of at most BATCH instances, so that memory holds one batch's working set."""
from __future__ import annotations

from tqdm import tqdm

from fulfilment_monitor.generate.scenarios import clean_orders, plan
from fulfilment_monitor.generate.scenarios.base import near_T
from fulfilment_monitor.generate.world import World

# Instances per vectorised call (about 450 MB of working set for clean orders). A scenario
# draws each attribute for all the instances of a call at once, so the batch size is part of
# what a seed means: every landing zone with at most this many clean orders is made in one
# batch, the same bytes as before batches existed (the benchmark's 1,000,000 orders included).
BATCH = 1_000_000


def run_scenarios(w: World, orders: int, progress: bool = False) -> None:
    """Make `orders` orders: each scenario's share (scenarios/__init__.py), the rest clean."""
    days = w.clock.days
    with tqdm(total=orders, desc="making orders", unit="order", disable=not progress) as bar:
        def run(fn, rng, n: int, placement=None) -> None:
            for start in range(0, n, BATCH):
                w.placement = placement
                fn(w, rng, min(BATCH, n - start))
                w.placement = None
                bar.update(w.count("order") - bar.n)

        for scenario, n in plan(orders):
            rng = w.rng(scenario.name)
            last_day, week = scenario.near_T_counts(n, days)
            run(scenario.fn, rng, n - last_day - week)
            for k, days_before in ((week, scenario.near_T and scenario.near_T.week),
                                   (last_day, scenario.near_T and scenario.near_T.last_day)):
                if k:
                    run(scenario.fn, rng, k, near_T(w, days_before, scenario.near_T))
        run(clean_orders, w.rng("clean_orders"), orders - w.count("order"))
