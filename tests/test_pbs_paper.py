"""capsim reproduces the PBS paper's Table 4 (Bailis et al., PVLDB 5(8), 2012).

N = 3, every (R, W) row of Table 4, all four latency models. What is checked,
and why these tolerances:

* 99.9th-percentile read and write latency within +-3% of the table, for the
  latency model itself: capsim.pbs.exact computes the percentiles by
  quadrature, with no sampling noise. The Monte Carlo is then checked against
  those exact values within 4 of its own standard errors. Comparing the Monte
  Carlo with the table directly would make a seed decide the outcome: the
  table's own numbers are Monte Carlo estimates (it prints 55.12 and 56.36 ms
  for the same WAN W=1 write latency; the exact value is 54.97, so a correct
  estimate often lands more than 3% below 56.36).
* P(consistent read right at commit) for R = W = 1 within 1 percentage point
  of section 5.6 (97.4%, 43.9%, 89.3%, 33%); 2,000,000 trials (+-0.05 point).
* t for 99.9% consistent reads, quantile method (the 99.9% quantile of the
  per-trial staleness window, 2,000,000 trials): 0.97x <= t <= 1.2x
  published. The published t came from the paper's first-crossing sweep,
  which reads low; the exact quantile sits 2-15% above it (LNKD-DISK R=W=1:
  ~52 ms vs 45.5).
* t, paper method (50,000 fresh trials at each grid t, first t reaching
  99.9%): within +-10% of published, on every cell but one. Over 20 seeds the
  sweep's median lands within 4% of every published value, and at least 19
  of 20 single runs stay inside +-10% -- except for YMMR R=2 W=1, where our sweeps give 157-198 ms
  (median 178, 0.88x) against the published 202, so +-10% would pass or fail
  with the seed, about half and half. That cell is checked for what is
  robust instead: the paper method reads below the quantile, and the
  published value lies between the two (test_paper_method_reads_low).
* Where the table prints t = 0: the quantile method must give exactly 0 (at
  least 99.9% of trials are consistent at commit); the paper method must give
  the first point of its grid, 0 ms except for YMMR, whose sweep started at
  1 ms (so the paper's 0 for YMMR strict quorums is the R+W>N guarantee, not
  a sweep result).

The latency models use the authors' simulator's parameters. Table 3 of the
paper prints YMMR's write Pareto alpha as 3.35, but only 3.5 (the value in
their Simulator.java) reproduces Table 4; test_ymmr_write_alpha shows it.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import pytest

from capsim.pbs import PBS_MODELS, LatencyModel, exponential, paper_t_visibility, pareto, simulate
from capsim.pbs.exact import latency_density, latency_quantile

pytestmark = pytest.mark.xdist_group("pbs_paper")  # one worker: cells share a cache

N = 3
SEED = 2012
TRIALS = 2_000_000

# model: {(R, W): (L_r, L_w, t)} -- the paper's Table 4, in ms
TABLE4: dict[str, dict[tuple[int, int], tuple[float, float, float]]] = {
    "LNKD-SSD": {
        (1, 1): (0.66, 0.66, 1.85),
        (1, 2): (0.66, 1.63, 1.79),
        (2, 1): (1.63, 0.65, 0),
        (2, 2): (1.62, 1.64, 0),
        (3, 1): (4.14, 0.65, 0),
        (1, 3): (0.65, 4.09, 0),
    },
    "LNKD-DISK": {
        (1, 1): (0.66, 10.99, 45.5),
        (1, 2): (0.65, 20.97, 43.3),
        (2, 1): (1.63, 10.9, 13.6),
        (2, 2): (1.64, 20.96, 0),
        (3, 1): (4.12, 10.89, 0),
        (1, 3): (0.65, 112.65, 0),
    },
    "YMMR": {
        (1, 1): (5.58, 10.83, 1364),
        (1, 2): (5.61, 427.12, 1352),
        (2, 1): (32.6, 10.73, 202),
        (2, 2): (33.18, 428.11, 0),
        (3, 1): (219.27, 10.79, 0),
        (1, 3): (5.63, 1870.86, 0),
    },
    "WAN": {
        (1, 1): (3.4, 55.12, 113),
        (1, 2): (3.4, 167.64, 0),
        (2, 1): (151.3, 56.36, 30.2),
        (2, 2): (151.31, 167.72, 0),
        (3, 1): (153.86, 55.19, 0),
        (1, 3): (3.44, 241.55, 0),
    },
}
P_AT_COMMIT = {"LNKD-SSD": 0.974, "LNKD-DISK": 0.439, "YMMR": 0.893, "WAN": 0.33}
FIRST_GRID_T = {"LNKD-SSD": 0.0, "LNKD-DISK": 0.0, "WAN": 0.0, "YMMR": 1.0}
PAPER_SWEEP_SPREAD = {("YMMR", 2, 1)}  # see the module docstring

CELLS = [(m, r, w) for m, rows in TABLE4.items() for (r, w) in rows]


def cell_id(cell: tuple[str, int, int]) -> str:
    m, r, w = cell
    return f"{m}-R{r}W{w}"


def trials_for(r: int, w: int) -> int:
    """Strict quorums only feed the latency check; half the trials do for that."""
    return TRIALS if r + w <= N else TRIALS // 2


@cache
def measured(model: str, r: int, w: int) -> tuple[float, float, float, float]:
    """(L_r, L_w, t quantile, P at commit) for one cell; the arrays are dropped."""
    res = simulate(N, r, w, model, trials=trials_for(r, w), seed=SEED)
    return (
        res.read_latency(0.999),
        res.write_latency(0.999),
        res.t_visibility(0.999),
        res.p_consistent(0.0),
    )


@pytest.mark.parametrize("cell", CELLS, ids=cell_id)
def test_model_latencies_match_table4(cell: tuple[str, int, int]) -> None:
    model, r, w = cell
    lr_pub, lw_pub, _ = TABLE4[model][(r, w)]
    lr = latency_quantile(model, N, r, "read", 0.999)
    lw = latency_quantile(model, N, w, "write", 0.999)
    assert lr == pytest.approx(lr_pub, rel=0.03), f"99.9th pct read latency {lr:.3f} vs {lr_pub}"
    assert lw == pytest.approx(lw_pub, rel=0.03), f"99.9th pct write latency {lw:.3f} vs {lw_pub}"


@pytest.mark.parametrize("cell", CELLS, ids=cell_id)
def test_monte_carlo_latencies_match_the_model(cell: tuple[str, int, int]) -> None:
    model, r, w = cell
    lr, lw, _, _ = measured(model, r, w)
    for kind, k, got in (("read", r, lr), ("write", w, lw)):
        exact = latency_quantile(model, N, k, kind, 0.999)
        trials = trials_for(r, w)
        stderr = (0.999 * 0.001 / trials) ** 0.5 / latency_density(model, N, k, kind, exact)
        assert abs(got - exact) <= 4 * stderr, (
            f"{kind} latency {got:.4f} vs exact {exact:.4f} (standard error {stderr:.4f})"
        )


@pytest.mark.parametrize("model", list(P_AT_COMMIT))
def test_consistency_at_commit_r1w1(model: str) -> None:
    *_, p0 = measured(model, 1, 1)
    assert abs(p0 - P_AT_COMMIT[model]) <= 0.01, f"P(consistent at t=0) {p0:.4f}"


@pytest.mark.parametrize("cell", CELLS, ids=cell_id)
def test_t_visibility_quantile_method(cell: tuple[str, int, int]) -> None:
    model, r, w = cell
    t_pub = TABLE4[model][(r, w)][2]
    _, _, t, _ = measured(model, r, w)
    if t_pub == 0:
        assert t == 0.0, f"t={t}: at least 99.9% of reads should be consistent at commit"
    else:
        assert 0.97 * t_pub <= t <= 1.2 * t_pub, f"t={t:.3f} vs published {t_pub}"


@pytest.mark.parametrize("cell", [c for c in CELLS if c not in PAPER_SWEEP_SPREAD], ids=cell_id)
def test_t_visibility_paper_method(cell: tuple[str, int, int]) -> None:
    model, r, w = cell
    t_pub = TABLE4[model][(r, w)][2]
    sweep = paper_t_visibility(N, r, w, model, target=0.999, trials_per_t=50_000, seed=SEED)
    assert sweep.t is not None, "the sweep never reached 99.9%"
    if t_pub == 0:
        assert sweep.t == FIRST_GRID_T[model]
    else:
        assert sweep.t == pytest.approx(t_pub, rel=0.10), f"paper-method t={sweep.t} vs {t_pub}"


@pytest.mark.parametrize("cell", [("LNKD-DISK", 1, 1), ("YMMR", 2, 1)], ids=cell_id)
def test_paper_method_reads_low(cell: tuple[str, int, int]) -> None:
    """The first crossing of a noisy sweep comes before the true quantile."""
    model, r, w = cell
    t_pub = TABLE4[model][(r, w)][2]
    sweep = paper_t_visibility(N, r, w, model, target=0.999, trials_per_t=50_000, seed=SEED)
    _, _, t_quantile, _ = measured(model, r, w)
    assert sweep.t is not None
    assert sweep.t < 0.95 * t_quantile
    assert 0.8 * t_pub <= sweep.t <= t_pub <= t_quantile


def test_strict_quorums_are_never_stale() -> None:
    """R + W > N: every read quorum overlaps the write quorum, so t = 0 for any target."""
    for model in TABLE4:
        for r, w in [(2, 2), (3, 1), (1, 3)]:
            res = simulate(N, r, w, model, trials=20_000, seed=SEED)
            assert res.p_consistent(0.0) == 1.0
            assert res.t_visibility(1.0) == 0.0


def test_ymmr_write_alpha() -> None:
    """Table 3 prints alpha=3.35 for YMMR's write delay; the code's 3.5 is what fits Table 4.

    alpha shapes the Pareto body of W, so it shows in the W=1 write latency
    (Table 4 prints 10.83, 10.73 and 10.79 ms for it, mean 10.78) and in
    P(consistent at commit) for R=W=1 (89.3%). 3.35 misses both by several
    times the paper's own row-to-row spread, though it would scrape through
    the loose +-3% / +-1 point cell tolerances; 1.35 misses by far.
    """
    assert PBS_MODELS["YMMR"].w[0].params["alpha"] == 3.5
    base = PBS_MODELS["YMMR"]

    def ymmr(alpha: float) -> LatencyModel:
        return dataclasses.replace(base, w=(pareto(0.939, 3.0, alpha), exponential(0.061, 0.0028)))

    def write_p999(alpha: float) -> float:
        return latency_quantile(ymmr(alpha), N, 1, "write", 0.999)

    def p_at_commit(alpha: float) -> float:
        return simulate(N, 1, 1, ymmr(alpha), trials=1_000_000, seed=SEED).p_consistent(0.0)

    published_lw = (10.83 + 10.73 + 10.79) / 3
    assert write_p999(3.5) == pytest.approx(published_lw, rel=0.005)
    assert write_p999(3.35) > published_lw * 1.025
    assert write_p999(1.35) > published_lw * 2
    assert p_at_commit(3.5) == pytest.approx(0.893, abs=0.001)  # sigma 0.0003
    assert p_at_commit(3.35) < 0.893 - 0.004
