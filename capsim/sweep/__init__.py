"""Sweeps: many runs of one scenario with fields varied, on all cores or a Dask cluster.

A single run teaches the story; a sweep teaches the trade-off (availability
and staleness as functions of partition length, latency, N/R/W, request
rate, across seeds)::

    from capsim.sweep import load_sweep, run_sweep
    sweep = load_sweep("scenarios/sweeps/partition-length.yaml")
    result = run_sweep(sweep, "runs/sweeps/partition-length", workers=2)
    result.rows[0]["availability.overall"]

Nothing here imports rich or typer; matplotlib, pyarrow and dask are
imported only by the functions that need them.
"""

from capsim.sweep.results import read_results, summarize
from capsim.sweep.run import SweepInterrupted, SweepResult, make_executor, run_sweep
from capsim.sweep.spec import Axis, Point, Run, Sweep, derive_seed, load_sweep, parse_sweep_text
from capsim.sweep.stats import mean_ci

__all__ = [
    "Axis",
    "Point",
    "Run",
    "Sweep",
    "SweepInterrupted",
    "SweepResult",
    "derive_seed",
    "load_sweep",
    "make_executor",
    "mean_ci",
    "parse_sweep_text",
    "read_results",
    "run_sweep",
    "summarize",
]
