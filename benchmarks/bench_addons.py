"""Where the add-on services' cost goes: the core's steps and the add-ons' own code, with and without them.

Issue 17's limit is on the cost per visit of the core model with add-ons against without
(``bench_core.py --addons``). This script says why the figure is what it is: in one process it
simulates example.yaml, example-addons.yaml with both add-ons on their own staff (dedicated) and
as shipped (shared staff), in interleaved rounds, and times each step of the service and each
add-on hook (CPU seconds, ``time.process_time`` around the call). Each figure is the least of the
rounds (the usual way to discount other load on the machine), so the columns need not add up.

Under dedicated staffing the core's own work is unchanged, so the difference is the add-ons' code.
Under shared staffing the core team also loses the add-ons' minutes: it defers and misses more
visits and carries longer lists, which is the model doing more, not overhead; the rows show both.

    python benchmarks/bench_addons.py                  # 4 rounds, the environment's kernel
    FUNDSIM_KERNEL=pure python benchmarks/bench_addons.py --rounds 6

The timers add about a microsecond a call; the hooks are called a few thousand times a run.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: (module, class, method) timed, with the label printed.
TIMED = [
    ("fundsim.sim.service", "ServiceModel", "admit", "core: overnight admissions (with the ward's night)"),
    ("fundsim.sim.service", "ServiceModel", "plan_day", "core: the day's work (with the shared minutes)"),
    ("fundsim.sim.service", "ServiceModel", "arrive", "core: referrals"),
    ("fundsim.sim.service", "ServiceModel", "defer_visits", "  of the day's work: visits deferred or missed"),
    ("fundsim.sim.management", "ProviderManager", "review", "core: the provider's monthly review"),
    ("fundsim.sim.virtual_ward", "VirtualWardService", "overnight", "ward: the night's events"),
    ("fundsim.sim.virtual_ward", "VirtualWardService", "hospital_stays", "ward: step-down offers"),
    ("fundsim.sim.virtual_ward", "VirtualWardService", "take_core_minutes", "ward: its minutes off the core"),
    ("fundsim.sim.urgent_response", "UrgentResponseService", "take_core_minutes", "urgent response: its minutes"),
]


def _instrument(totals: dict[str, float]) -> None:
    """Wrap each timed method so its CPU seconds add to ``totals[label]``."""
    import importlib

    for module, cls_name, method, label in TIMED:
        cls = getattr(importlib.import_module(module), cls_name)
        original: Callable[..., Any] = getattr(cls, method)

        def timed(*args: Any, _f: Callable[..., Any] = original, _label: str = label, **kwargs: Any) -> Any:
            t0 = time.process_time()
            try:
                return _f(*args, **kwargs)
            finally:
                totals[_label] = totals.get(_label, 0.0) + time.process_time() - t0

        setattr(cls, method, functools.wraps(original)(timed))


def main(argv: list[str] | None = None) -> int:
    """Time the cases in interleaved rounds and print the least CPU seconds of each row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds of the three cases")
    args = parser.parse_args(argv)

    from bench_core import _addon_visits, _dedicated, median_ci, warm_up

    import fundsim
    from fundsim.sim.kernels import kernel_choice

    totals: dict[str, float] = {}
    _instrument(totals)
    warm_up(fundsim)  # one-off start-up costs
    shipped = fundsim.load_scenario(ROOT / "scenarios" / "example-addons.yaml")
    cases = {
        "example": fundsim.load_scenario(ROOT / "scenarios" / "example.yaml"),
        "dedicated": _dedicated(shipped),
        "shared": shipped,
    }
    best: dict[str, dict[str, float]] = {name: {} for name in cases}
    visits: dict[str, tuple[float, float]] = {}
    rounds: list[dict[str, float]] = []  # each round's whole-run CPU seconds by case
    for _ in range(args.rounds):
        rounds.append({})
        for name, scenario in cases.items():
            totals.clear()
            t0 = time.process_time()
            result = fundsim.simulate(scenario, 0)
            totals["whole run"] = time.process_time() - t0
            rounds[-1][name] = totals["whole run"]
            for label, seconds in totals.items():
                best[name][label] = min(best[name].get(label, float("inf")), seconds)
            ledger = result.ledger
            deferrals = float(ledger["visit_deferrals"].sum())
            visits[name] = (float(ledger["contacts"].sum()), _addon_visits(scenario, ledger), deferrals)
    labels = ["whole run"] + [label for *_, label in TIMED]
    print(f"kernel: {kernel_choice()}; least CPU seconds of {args.rounds} interleaved rounds")
    print(f"{'':52s}{'example':>10s}{'dedicated':>11s}{'shared':>10s}")
    for label in labels:
        row = [best[name].get(label, 0.0) for name in cases]
        print(f"{label:52s}" + "".join(f"{x:10.3f} " for x in row))
    print(f"{'core contacts':52s}" + "".join(f"{visits[n][0]:10.0f} " for n in cases))
    print(f"{'add-on visits (responses, ward visits)':52s}" + "".join(f"{visits[n][1]:10.0f} " for n in cases))
    print(f"{'visits deferred (the core offered them, no one was free)':52s}" + "".join(
        f"{visits[n][2]:10.0f} " for n in cases
    ))  # fmt: skip
    base = best["example"]["whole run"] / visits["example"][0]
    for name in ("dedicated", "shared"):
        core, addon, _ = visits[name]
        run = best[name]["whole run"]
        print(
            f"{name}: per core contact {run / core / base - 1:+.1%}, "
            f"per visit of any kind {run / (core + addon) / base - 1:+.1%} against example.yaml (least CPU)"
        )
    # The same ratios round by round (each case's run beside the example's in the same round): their
    # median and its distribution-free 95% interval, steadier than the least on a busy machine.
    per = {
        "per core contact": lambda n: visits[n][0],
        "per visit of any kind": lambda n: visits[n][0] + visits[n][1],
        "per item of work (core contacts, visits deferred, add-on visits)": lambda n: sum(visits[n]),
    }
    for name in ("dedicated", "shared"):
        for label, count in per.items():
            ratios = [rd[name] / count(name) / (rd["example"] / count("example")) for rd in rounds]
            median, lo, hi = median_ci(ratios)
            print(f"{name}, paired by round, {label}: {median - 1:+.1%} (95% CI {lo - 1:+.1%} to {hi - 1:+.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
