"""Probabilistically Bounded Staleness: how stale Dynamo-style partial quorums are.

The WARS Monte Carlo of Bailis et al. (PVLDB 5(8), 2012) over the paper's
production latency models. No plotting, no CLI, no global randomness here:
``capsim pbs`` and the notebooks render what these functions return.

    >>> from capsim.pbs import simulate
    >>> res = simulate(3, 1, 1, "LNKD-DISK", trials=100_000, seed=1)
    >>> round(res.p_consistent(0.0), 2)     # a read right at commit
    0.44
"""

from capsim.latency import (
    DELAY_KINDS,
    MODEL_NAMES,
    PBS_MODELS,
    YMMR_WRITE_ALPHA,
    Component,
    DelayKind,
    LatencyModel,
    Mixture,
    exponential,
    get_model,
    pareto,
    sample_mixture,
)
from capsim.pbs.montecarlo import (
    FIGURE_T_MAX,
    METHODS,
    PAPER_GRIDS,
    PAPER_TRIALS_PER_T,
    Method,
    PaperSweep,
    PBSResult,
    WarsDraws,
    check_nrw,
    draw_trials,
    evaluate,
    k_staleness,
    paper_grid,
    paper_t_visibility,
    simulate,
    t_visibility,
    wilson_interval,
)

__all__ = [
    "DELAY_KINDS",
    "FIGURE_T_MAX",
    "METHODS",
    "MODEL_NAMES",
    "PAPER_GRIDS",
    "PAPER_TRIALS_PER_T",
    "PBS_MODELS",
    "YMMR_WRITE_ALPHA",
    "Component",
    "DelayKind",
    "LatencyModel",
    "Method",
    "Mixture",
    "PBSResult",
    "PaperSweep",
    "WarsDraws",
    "check_nrw",
    "draw_trials",
    "evaluate",
    "exponential",
    "get_model",
    "k_staleness",
    "paper_grid",
    "paper_t_visibility",
    "pareto",
    "sample_mixture",
    "simulate",
    "t_visibility",
    "wilson_interval",
]
