"""The PBS library: latency models, the WARS Monte Carlo, k-staleness, exact percentiles."""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np
import pytest

from capsim.pbs import (
    PBS_MODELS,
    LatencyModel,
    WarsDraws,
    check_nrw,
    draw_trials,
    evaluate,
    exponential,
    get_model,
    k_staleness,
    paper_grid,
    paper_t_visibility,
    pareto,
    simulate,
    wilson_interval,
)
from capsim.pbs.exact import latency_quantile, sum_survival, survival

# --- the models ------------------------------------------------------------------------------


def _params(mix: tuple) -> list[tuple[float, str, dict[str, float]]]:
    return [(c.weight, c.dist, dict(c.params)) for c in mix]


def test_models_carry_the_papers_parameters() -> None:
    ssd = [
        (0.9122, "pareto", {"xm": 0.235, "alpha": 10.0}),
        (0.0878, "exponential", {"rate": 1.66}),
    ]
    disk_w = [(0.38, "pareto", {"xm": 1.05, "alpha": 1.51}), (0.62, "exponential", {"rate": 0.183})]
    ymmr_w = [
        (0.939, "pareto", {"xm": 3.0, "alpha": 3.5}),
        (0.061, "exponential", {"rate": 0.0028}),
    ]
    ymmr_ars = [
        (0.982, "pareto", {"xm": 1.5, "alpha": 3.8}),
        (0.018, "exponential", {"rate": 0.0217}),
    ]
    m = PBS_MODELS
    for kind in "wars":
        assert _params(m["LNKD-SSD"].delay(kind)) == ssd  # type: ignore[arg-type]
    assert _params(m["LNKD-DISK"].w) == disk_w
    assert _params(m["WAN"].w) == disk_w
    for kind in "ars":
        assert _params(m["LNKD-DISK"].delay(kind)) == ssd  # type: ignore[arg-type]
        assert _params(m["WAN"].delay(kind)) == ssd  # type: ignore[arg-type]
        assert _params(m["YMMR"].delay(kind)) == ymmr_ars  # type: ignore[arg-type]
    assert _params(m["YMMR"].w) == ymmr_w
    assert m["WAN"].remote_ms == 75.0
    assert [m[k].remote_ms for k in ("LNKD-SSD", "LNKD-DISK", "YMMR")] == [0.0, 0.0, 0.0]
    # plain tuples, so the simulator can unpack them without capsim types
    weight, dist, params = m["LNKD-SSD"].w[0]
    assert (weight, dist, params["xm"]) == (0.9122, "pareto", 0.235)


@pytest.mark.parametrize("name", list(PBS_MODELS))
@pytest.mark.parametrize("kind", ["w", "a", "r", "s"])
def test_vectorised_sampler_follows_the_mixture(name: str, kind: str) -> None:
    model = PBS_MODELS[name]
    mix = model.delay(kind)  # type: ignore[arg-type]
    n = 200_000
    x = model.sample(kind, n, np.random.default_rng(3))  # type: ignore[arg-type]
    assert x.shape == (n,)
    assert x.min() > 0
    for q in (0.5, 0.9, 0.99, 0.999):
        cut = float(np.quantile(x, q))
        expected = float(survival(mix, np.array([cut]))[0])
        observed = float(np.mean(x > cut))
        sigma = math.sqrt(expected * (1 - expected) / n)
        assert abs(observed - expected) <= 5 * sigma + 1e-9, (q, observed, expected)


def test_sampler_handles_any_shape_and_more_components() -> None:
    three = LatencyModel(
        "three",
        "three parts",
        w=(exponential(0.2, 1.0), pareto(0.5, 2.0, 3.0), exponential(0.3, 0.01)),
        a=(exponential(1.0, 1.0),),
        r=(pareto(1.0, 1.0, 2.0),),
        s=(exponential(1.0, 1.0),),
    )
    x = three.sample("w", (400, 500), np.random.default_rng(0))
    assert x.shape == (400, 500)
    n = x.size
    for cut in (0.5, 2.0, 5.0, 100.0):
        expected = float(survival(three.w, np.array([cut]))[0])
        sigma = math.sqrt(expected * (1 - expected) / n)
        assert abs(float(np.mean(x > cut)) - expected) <= 5 * sigma
    r = three.sample("r", 100_000, np.random.default_rng(1))
    assert r.min() >= 1.0  # a Pareto never goes below xm


def test_per_message_samplers_follow_the_same_mixture() -> None:
    model = PBS_MODELS["LNKD-DISK"]
    rng = random.Random(5)
    n = 100_000
    ms = np.array([model.sample_one("w", rng) for _ in range(n)])
    for cut in (1.0, 5.0, 20.0):
        expected = float(survival(model.w, np.array([cut]))[0])
        sigma = math.sqrt(expected * (1 - expected) / n)
        assert abs(float(np.mean(ms > cut)) - expected) <= 5 * sigma
    # the simulator's closure: seconds, and the WAN penalty on request
    wan = PBS_MODELS["WAN"]
    seconds = wan.sampler("r", remote=True)
    draws = [seconds(rng) for _ in range(2000)]
    assert min(draws) >= 0.075
    local = wan.sampler("r")
    assert max(local(rng) for _ in range(2000)) < 0.075
    same = random.Random(9), random.Random(9)
    assert wan.sample_one("s", same[0]) / 1000 == pytest.approx(
        wan.sampler("s")(same[1]), rel=1e-12
    )


def test_model_lookup_and_validation() -> None:
    assert get_model("lnkd-disk") is PBS_MODELS["LNKD-DISK"]
    with pytest.raises(ValueError, match="LNKD-SSD, LNKD-DISK, YMMR, WAN"):
        get_model("SSD")
    with pytest.raises(ValueError, match=r"weights sum to 0\.9"):
        LatencyModel("bad", "", w=(exponential(0.9, 1.0),), a=(), r=(), s=())
    with pytest.raises(ValueError, match="unknown delay"):
        PBS_MODELS["YMMR"].delay("x")  # type: ignore[arg-type]
    d = PBS_MODELS["WAN"].to_dict()
    assert d["remote_ms"] == 75.0
    assert d["w"] == [
        [0.38, "pareto", {"xm": 1.05, "alpha": 1.51}],
        [0.62, "exponential", {"rate": 0.183}],
    ]


# --- the WARS trials -------------------------------------------------------------------------


def authors_calc_stale(
    n: int,
    r: int,
    w: int,
    ws: list[float],
    as_: list[float],
    rs: list[float],
    ss: list[float],
    t: float,
) -> tuple[float, float, bool]:
    """StaleCalc.calc_stale from the authors' Simulator.java, line by line."""
    writelats = [ws[i] + as_[i] for i in range(n)]
    w_t = sorted(writelats)[w - 1]
    readlats = [rs[i] + ss[i] for i in range(n)]
    sortedreads = sorted(readlats)
    current = False
    for rep in range(r):
        rep_no = readlats.index(sortedreads[rep])
        if w_t + rs[rep_no] + t >= ws[rep_no]:
            current = True
        readlats[rep_no] = -1.0
    return sortedreads[r - 1], w_t, not current


@pytest.mark.parametrize(("n", "model"), [(3, "LNKD-DISK"), (5, "WAN"), (12, "YMMR")])
def test_evaluate_agrees_with_the_authors_code_trial_by_trial(n: int, model: str) -> None:
    draws = draw_trials(model, n, 300, np.random.default_rng(11))
    assert draws.w.shape == (n, 300)
    for r in range(1, n + 1):
        for w in {1, max(1, n // 2), n}:
            window, read_lat, write_lat = evaluate(draws, r, w)
            for j in range(0, 300, 7):
                cols = [list(map(float, d[:, j])) for d in (draws.w, draws.a, draws.r, draws.s)]
                for t in (0.0, 0.3, 3.0, 40.0):
                    rl, wl, stale = authors_calc_stale(n, r, w, *cols, t)
                    assert read_lat[j] == pytest.approx(rl)
                    assert write_lat[j] == pytest.approx(wl)
                    assert (window[j] > t) == stale, (r, w, j, t, window[j])


def test_wan_has_one_local_replica_for_the_writer_and_one_for_the_reader() -> None:
    tiny = (exponential(1.0, 1000.0),)  # about a microsecond, so 75 ms stands out
    wan = LatencyModel("tiny-wan", "", w=tiny, a=tiny, r=tiny, s=tiny, remote_ms=75.0)
    n, trials = 4, 20_000
    d = draw_trials(wan, n, trials, np.random.default_rng(2))
    far_w, far_a, far_r, far_s = (x > 50 for x in (d.w, d.a, d.r, d.s))
    assert (far_w == far_a).all()  # a write's ack comes back the way it went
    assert (far_r == far_s).all()
    assert (far_w.sum(axis=0) == n - 1).all()  # exactly one local replica per side
    assert (far_r.sum(axis=0) == n - 1).all()
    same_dc = np.mean(np.argmin(far_w, axis=0) == np.argmin(far_r, axis=0))
    assert same_dc == pytest.approx(1 / n, abs=5 * math.sqrt(3 / 16 / trials))  # independent


def test_strict_quorums_always_see_the_write() -> None:
    for n, r, w in [(3, 2, 2), (5, 3, 3), (5, 1, 5), (5, 5, 1)]:
        res = simulate(n, r, w, "YMMR", trials=30_000, seed=1)
        assert res.strict
        assert res.windows.max() == 0.0
        assert res.t_visibility(1.0) == 0.0


def test_curve_quantile_and_interval_fit_together() -> None:
    res = simulate(3, 1, 1, "LNKD-DISK", trials=200_000, seed=4)
    ts = np.linspace(0, 100, 201)
    p = res.p_consistent(ts)
    assert (np.diff(p) >= 0).all()
    t = res.t_visibility(0.99)
    assert res.p_consistent(t) >= 0.99
    assert res.p_consistent(np.nextafter(t, 0)) < 0.99
    lo, hi = res.interval(t)
    assert lo <= res.p_consistent(t) <= hi
    assert res.consistent_count(0.0) == round(res.p_consistent(0.0) * res.trials)
    # latencies: the R-th and W-th fastest round trips
    assert res.read_latency(0.5) < res.read_latency(0.999)
    assert res.write_latency(0.999) == pytest.approx(10.93, rel=0.06)


def test_more_replicas_to_wait_for_means_fresher_reads_and_slower_requests() -> None:
    runs = {
        (r, w): simulate(5, r, w, "LNKD-DISK", trials=100_000, seed=6)
        for r, w in [(1, 1), (2, 1), (1, 2)]
    }
    base = runs[(1, 1)]
    for rw in [(2, 1), (1, 2)]:
        assert runs[rw].p_consistent(0.0) > base.p_consistent(0.0)
        assert runs[rw].t_visibility(0.999) < base.t_visibility(0.999)
    assert runs[(2, 1)].read_latency() > base.read_latency()
    assert runs[(1, 2)].write_latency() > base.write_latency()


def test_same_seed_same_numbers_other_seed_other_numbers() -> None:
    a = simulate(3, 1, 1, "WAN", trials=50_000, seed=8)
    b = simulate(3, 1, 1, "WAN", trials=50_000, seed=8)
    c = simulate(3, 1, 1, "WAN", trials=50_000, seed=9)
    assert np.array_equal(a.windows, b.windows)
    assert np.array_equal(a.read_latencies, b.read_latencies)
    assert not np.array_equal(a.windows, c.windows)
    s1 = paper_t_visibility(3, 1, 1, "LNKD-SSD", trials_per_t=5000, seed=3)
    s2 = paper_t_visibility(3, 1, 1, "LNKD-SSD", trials_per_t=5000, seed=3)
    assert s1 == s2


def test_bad_configurations_are_refused_in_words() -> None:
    with pytest.raises(ValueError, match="R=4 is more than N=3"):
        check_nrw(3, 4, 1)
    with pytest.raises(ValueError, match="W=5 is more than N=3"):
        simulate(3, 1, 5)
    with pytest.raises(ValueError, match="N must be at least 1"):
        check_nrw(0, 1, 1)
    with pytest.raises(ValueError, match="trials must be at least 1"):
        simulate(3, 1, 1, trials=0)
    with pytest.raises(ValueError, match="seed"):
        simulate(3, 1, 1, trials=10, seed=-1)
    with pytest.raises(ValueError, match="target"):
        simulate(3, 1, 1, trials=10).t_visibility(1.5)


# --- the paper's sweep -----------------------------------------------------------------------


def test_paper_grids_are_the_authors() -> None:
    ssd, disk, ymmr = paper_grid("LNKD-SSD"), paper_grid("WAN"), paper_grid("YMMR")
    assert (ssd[0], ssd[1], ssd[-1], len(ssd)) == (0.0, 0.01, 3.99, 400)
    assert (disk[0], disk[1], disk[-1], len(disk)) == (0.0, 0.1, 149.9, 1500)
    assert (ymmr[0], ymmr[-1], len(ymmr)) == (1.0, 1499.0, 1499)


def test_paper_sweep_reports_a_grid_point_whose_estimate_reaches_the_target() -> None:
    sweep = paper_t_visibility(3, 1, 1, "LNKD-DISK", target=0.99, trials_per_t=20_000, seed=2)
    assert sweep.t is not None and sweep.estimate is not None
    assert sweep.t in set(paper_grid("LNKD-DISK").tolist())
    assert sweep.estimate >= 0.99
    exact_ish = simulate(3, 1, 1, "LNKD-DISK", trials=400_000, seed=2).t_visibility(0.99)
    assert 0.8 * exact_ish <= sweep.t <= 1.1 * exact_ish
    # strict quorum: the very first grid point; unreachable: None
    assert paper_t_visibility(3, 2, 2, "YMMR", trials_per_t=2000).t == 1.0
    never = paper_t_visibility(3, 1, 1, "LNKD-DISK", trials_per_t=2000, grid=np.array([0.0, 0.5]))
    assert never.t is None and never.grid_points == 2


# --- k-staleness -----------------------------------------------------------------------------


def test_k_staleness_closed_form() -> None:
    assert k_staleness(3, 1, 1, 1) == pytest.approx(1 / 3)
    assert k_staleness(3, 1, 1, 2) == pytest.approx(1 - (2 / 3) ** 2)
    assert k_staleness(3, 2, 2, 1) == 1.0
    assert k_staleness(100, 1, 1, 1) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="k must be"):
        k_staleness(3, 1, 1, 0)


def test_k_staleness_matches_random_quorums() -> None:
    """Pick read and write quorums at random and count how often they miss k writes."""
    rng = np.random.default_rng(0)
    n, r, w, k, trials = 5, 2, 2, 2, 100_000
    keys = rng.random((trials, k + 1, n))
    ranks = keys.argsort(axis=2).argsort(axis=2)
    writes = ranks[:, :k, :] < w  # the last k writes' replica sets
    read = ranks[:, k, :] < r
    sees = (writes & read[:, None, :]).any(axis=2).any(axis=1)
    p = k_staleness(n, r, w, k)
    assert sees.mean() == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / trials))


def test_wilson_interval() -> None:
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and 0.2 < hi < 0.35
    lo, hi = wilson_interval(999, 1000)
    assert 0.99 < lo < 0.999 < hi <= 1.0


# --- exact percentiles -----------------------------------------------------------------------


def test_sum_survival_matches_closed_forms() -> None:
    e = (exponential(1.0, 0.5),)
    for x in (0.1, 1.0, 10.0, 60.0):
        gamma2 = math.exp(-0.5 * x) * (1 + 0.5 * x)  # sum of two Exp(0.5)
        assert sum_survival(e, e, x) == pytest.approx(gamma2, rel=1e-7)
    p = (pareto(1.0, 2.0, 3.0),)
    # P(X + Y > x) for a Pareto X and a constant-ish (tiny exponential) Y ~ P(X > x)
    tiny = (exponential(1.0, 1e6),)
    assert sum_survival(p, tiny, 10.0) == pytest.approx((2 / 10) ** 3, rel=1e-4)


def test_exact_percentiles_agree_with_sampling() -> None:
    res = simulate(3, 1, 1, "LNKD-SSD", trials=400_000, seed=12)
    for q in (0.5, 0.9, 0.99):
        exact_r = latency_quantile("LNKD-SSD", 3, 1, "read", q)
        assert res.read_latency(q) == pytest.approx(exact_r, rel=0.01)
    slow = dataclasses.replace(PBS_MODELS["LNKD-SSD"], remote_ms=10.0)
    # with a penalty on every replica but one, R=2 must wait for a remote replica
    assert latency_quantile(slow, 3, 2, "read", 0.5) > 20.0
    with pytest.raises(ValueError, match="kind"):
        latency_quantile("WAN", 3, 1, "both", 0.5)  # type: ignore[arg-type]


def test_wars_draws_are_plain_arrays() -> None:
    d = draw_trials("LNKD-SSD", 3, 10, np.random.default_rng(0))
    assert isinstance(d, WarsDraws)
    assert all(x.dtype == np.float64 and x.shape == (3, 10) for x in (d.w, d.a, d.r, d.s))
