"""The WARS Monte Carlo of the PBS paper (section 5), vectorised with numpy.

One *trial* is one write followed by one read, against N replicas:

* the coordinator sends the write to all N replicas; replica i receives it
  after ``W[i]`` ms and its ack arrives ``A[i]`` ms later. The write *commits*
  (the client is told "ok") when the W-th fastest ack arrives:
  ``commit = W-th smallest of W[i] + A[i]``;
* ``t`` ms after the commit the read is sent to all N replicas; replica i gets
  it ``R[i]`` ms later and its answer takes ``S[i]`` ms to come back. The read
  returns when the R fastest answers (smallest ``R[i] + S[i]``) are in;
* the read is *consistent* if at least one of those R replicas already had the
  write when the read request reached it: ``W[i] <= commit + t + R[i]``.

Rearranged, trial j is consistent for every ``t >= window[j]`` where
``window[j] = max(0, min over the R fastest readers of W[i] - R[i] - commit)``.
So one set of trials gives the whole curve ``P(consistent at t)`` (the
empirical CDF of the windows) and the t for a target probability (a quantile
of the windows) -- this is the default ``method="quantile"``.

The paper instead swept t over a grid and drew fresh trials for each t,
reporting the first t whose estimate reached the target; that is
:func:`paper_t_visibility` (``method="paper"``). Its first crossing of a noisy
curve is biased low, which is why the published t values sit a little below
the quantile. Both are deterministic for a given seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

from capsim.latency import LatencyModel, get_model

Method = Literal["quantile", "paper"]
METHODS: tuple[Method, ...] = ("quantile", "paper")
FloatArray = npt.NDArray[np.float64]

CHUNK = 1 << 15
"""Trials drawn per block: small enough to stay in cache, large enough that
numpy's per-call overhead vanishes. Part of the seed contract: changing it
changes which numbers a seed gives, so it is fixed, not tunable."""

PAPER_TRIALS_PER_T = 50_000
"""Fresh trials the authors drew at each t of their sweep."""

PAPER_GRIDS: dict[str, tuple[float, float, float]] = {
    # model: (first t, step, number of points) -- Simulator.java's F, M and L sweeps
    "LNKD-SSD": (0.0, 0.01, 400),  # 0 .. 3.99 ms
    "LNKD-DISK": (0.0, 0.1, 1500),  # 0 .. 149.9 ms
    "WAN": (0.0, 0.1, 1500),
    "YMMR": (1.0, 1.0, 1499),  # 1 .. 1499 ms
}

FIGURE_T_MAX: dict[str, float] = {"LNKD-SSD": 2.4, "LNKD-DISK": 100.0, "WAN": 110.0, "YMMR": 1000.0}
"""x-axis extent of the paper's Figure 5 t-visibility plots, per model (ms)."""


# --- validation ----------------------------------------------------------------------------


def check_nrw(n: int, r: int, w: int) -> None:
    """Raise ``ValueError`` in words when (N, R, W) is not a quorum configuration."""
    for name, v in (("N", n), ("R", r), ("W", w)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{name} must be an integer, got {v!r}")
        if v < 1:
            raise ValueError(f"{name} must be at least 1, got {v}")
    if r > n:
        raise ValueError(
            f"R={r} is more than N={n}: a read cannot wait for more replicas than exist"
        )
    if w > n:
        raise ValueError(
            f"W={w} is more than N={n}: a write cannot wait for more acks than replicas"
        )


def _model(model: str | LatencyModel) -> LatencyModel:
    return model if isinstance(model, LatencyModel) else get_model(model)


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")


_PAPER_STREAM = 0x5EED
"""Second word of the paper sweep's seed, so it draws different numbers than simulate()."""


def _check_target(target: float) -> None:
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target must be a probability in (0, 1], got {target}")


# --- the trials ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WarsDraws:
    """The raw delays of a block of trials, shape ``(N, trials)``, in ms.

    Row i holds replica i's delays (each row contiguous, so the per-replica
    arithmetic is plain vector code). WAN's datacenter penalty is already
    added. Kept apart from :func:`evaluate` so that several (R, W) choices can
    be judged on the very same draws (common random numbers).
    """

    w: FloatArray
    a: FloatArray
    r: FloatArray
    s: FloatArray


def draw_trials(
    model: str | LatencyModel, n: int, trials: int, rng: np.random.Generator
) -> WarsDraws:
    """Draw W, A, R, S for ``n`` replicas in each of ``trials`` trials.

    For a model with a datacenter penalty (WAN), each trial also picks the
    writer's local replica and, independently, the reader's, uniformly; W and
    A of every other replica pay the penalty, and so do R and S of every
    replica but the reader's.
    """
    m = _model(model)
    shape = (n, trials)
    w = m.sample("w", shape, rng)
    a = m.sample("a", shape, rng)
    r = m.sample("r", shape, rng)
    s = m.sample("s", shape, rng)
    if m.remote_ms:
        replica = np.arange(n)[:, None]
        far_w = (replica != rng.integers(n, size=trials)) * m.remote_ms
        far_r = (replica != rng.integers(n, size=trials)) * m.remote_ms
        w += far_w
        a += far_w
        r += far_r
        s += far_r
    return WarsDraws(w, a, r, s)


_SMALL_N = 8
"""Up to this many replicas, order statistics use comparison networks on whole
rows (O(N^2) vector operations, no per-trial sorting); above it, numpy sorts."""


def _kth_smallest(x: FloatArray, k: int) -> FloatArray:
    """The k-th smallest (1-based) of each column of ``x``."""
    n = x.shape[0]
    if k == 1:
        return x.min(axis=0)
    if k == n:
        return x.max(axis=0)
    if n > _SMALL_N:
        return np.partition(x, k - 1, axis=0)[k - 1]
    rows = [x[i].copy() for i in range(n)]
    # Selection by bubbling: after pass p the p smallest sit in rows[:p], sorted.
    for p in range(k):
        for i in range(n - 1, p, -1):
            lo = np.minimum(rows[i - 1], rows[i])
            np.maximum(rows[i - 1], rows[i], out=rows[i])
            rows[i - 1] = lo
    return rows[k - 1]


def _fastest(read_lat: FloatArray, r: int) -> npt.NDArray[np.bool_]:
    """Mask, shape (N, trials): is replica i among the r fastest readers of trial j.

    Ties (probability zero for continuous delays) go to the lower replica
    index, like the authors' simulator.
    """
    n = read_lat.shape[0]
    if n > _SMALL_N:
        order = np.argsort(read_lat, axis=0, kind="stable")[:r]
        mask = np.zeros(read_lat.shape, dtype=bool)
        np.put_along_axis(mask, order, True, axis=0)
        return mask
    rank = np.zeros(read_lat.shape, dtype=np.int16)
    for i in range(n):
        for j in range(i + 1, n):
            before = read_lat[i] <= read_lat[j]  # i is no slower than j
            rank[j] += before
            rank[i] += ~before
    return rank < r


def evaluate(draws: WarsDraws, r: int, w: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per trial: (staleness window, read latency, write latency), all in ms.

    The window is the smallest t after commit at which this trial's read is
    consistent (0 when it already is at commit); see the module docstring.
    """
    n = draws.w.shape[0]
    check_nrw(n, r, w)
    commit = _kth_smallest(draws.w + draws.a, w)
    read_lat = draws.r + draws.s
    # late[i]: how long after the read request reaches replica i the write
    # does (<= 0: the replica already has it).
    late = draws.w - draws.r
    late -= commit
    if r < n:
        np.copyto(late, np.inf, where=~_fastest(read_lat, r))
    window = late.min(axis=0)
    np.maximum(window, 0.0, out=window)
    return window, _kth_smallest(read_lat, r), commit


def _simulate_arrays(
    model: LatencyModel, n: int, r: int, w: int, trials: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, FloatArray]:
    windows = np.empty(trials)
    reads = np.empty(trials)
    writes = np.empty(trials)
    for start in range(0, trials, CHUNK):
        stop = min(start + CHUNK, trials)
        win, rd, wr = evaluate(draw_trials(model, n, stop - start, rng), r, w)
        windows[start:stop] = win
        reads[start:stop] = rd
        writes[start:stop] = wr
    return windows, reads, writes


def _order_statistic(sorted_values: FloatArray, q: float) -> float:
    """The smallest x with ``P(X <= x) >= q`` in the sample (the inverse empirical CDF)."""
    n = len(sorted_values)
    k = max(1, math.ceil(q * n - 1e-9))
    return float(sorted_values[min(k, n) - 1])


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    Preferred over the normal approximation because the interesting
    probabilities here sit near 1, where ``p +- z*sqrt(p(1-p)/n)`` spills past 1.
    """
    if trials <= 0:
        raise ValueError("trials must be positive")
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == trials else min(1.0, centre + half)
    return lo, hi


@dataclass(frozen=True, eq=False)
class PBSResult:
    """The outcome of :func:`simulate`: sorted per-trial windows and latencies (ms).

    Everything the CLI prints is derived from these three arrays, so a
    notebook can ask for any t, target or percentile without re-running.
    """

    n: int
    r: int
    w: int
    model: str
    trials: int
    seed: int
    windows: FloatArray
    read_latencies: FloatArray
    write_latencies: FloatArray

    @property
    def strict(self) -> bool:
        """R + W > N: every read quorum meets every write quorum, so no read is stale."""
        return self.r + self.w > self.n

    @overload
    def p_consistent(self, t: float) -> float: ...
    @overload
    def p_consistent(self, t: FloatArray) -> FloatArray: ...
    def p_consistent(self, t: float | FloatArray) -> float | FloatArray:
        """P(a read sent ``t`` ms after commit returns the write), estimated."""
        counts = np.searchsorted(self.windows, t, side="right")
        if np.ndim(counts) == 0:
            return float(counts) / self.trials
        return np.asarray(counts, dtype=np.float64) / self.trials

    def consistent_count(self, t: float) -> int:
        """How many of the trials were consistent at ``t`` (for confidence intervals)."""
        return int(np.searchsorted(self.windows, t, side="right"))

    def interval(self, t: float, level: float = 0.95) -> tuple[float, float]:
        """Wilson confidence interval of :meth:`p_consistent` at ``t``."""
        return wilson_interval(self.consistent_count(t), self.trials, level)

    def t_visibility(self, target: float = 0.999) -> float:
        """The smallest t (ms) at which at least ``target`` of the trials were consistent."""
        _check_target(target)
        return _order_statistic(self.windows, target)

    def read_latency(self, q: float = 0.999) -> float:
        """The ``q`` quantile of read latency (ms): request out to R-th answer in."""
        return _order_statistic(self.read_latencies, q)

    def write_latency(self, q: float = 0.999) -> float:
        """The ``q`` quantile of write latency (ms): write out to W-th ack in."""
        return _order_statistic(self.write_latencies, q)


def simulate(
    n: int,
    r: int,
    w: int,
    model: str | LatencyModel = "LNKD-SSD",
    *,
    trials: int = 1_000_000,
    seed: int = 0,
) -> PBSResult:
    """Run ``trials`` WARS trials of (N, R, W) under ``model``; seeded and deterministic."""
    check_nrw(n, r, w)
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    _check_seed(seed)
    m = _model(model)
    rng = np.random.default_rng(seed)
    windows, reads, writes = _simulate_arrays(m, n, r, w, trials, rng)
    windows.sort()
    reads.sort()
    writes.sort()
    return PBSResult(n, r, w, m.name, trials, seed, windows, reads, writes)


# --- the paper's sweep -----------------------------------------------------------------------


def paper_grid(model: str | LatencyModel) -> FloatArray:
    """The t values (ms) the authors' simulator swept for ``model``."""
    name = _model(model).name
    if name not in PAPER_GRIDS:
        raise ValueError(f"no paper sweep grid for model {name!r}")
    first, step, count = PAPER_GRIDS[name]
    return np.round(first + step * np.arange(count), 10)  # 1.89, not 1.8900000000000001


@dataclass(frozen=True)
class PaperSweep:
    """The outcome of :func:`paper_t_visibility`.

    ``t`` is None when no grid point reached the target. ``estimate`` is the
    fraction consistent among the fresh trials at ``t``; ``trials_drawn``
    counts every trial the sweep drew.
    """

    t: float | None
    estimate: float | None
    grid_points: int
    trials_drawn: int


def paper_t_visibility(
    n: int,
    r: int,
    w: int,
    model: str | LatencyModel = "LNKD-SSD",
    *,
    target: float = 0.999,
    trials_per_t: int = PAPER_TRIALS_PER_T,
    seed: int = 0,
    grid: FloatArray | None = None,
) -> PaperSweep:
    """The paper's t: the first grid t whose fresh-trial estimate reaches ``target``.

    Each t gets its own ``trials_per_t`` fresh trials, as in the authors'
    simulator. A t is abandoned as soon as its stale count exceeds what the
    target allows (its estimate can then no longer reach the target), which
    changes nothing about the outcome but saves most of the work far from the
    crossing.
    """
    check_nrw(n, r, w)
    _check_target(target)
    if trials_per_t < 1:
        raise ValueError(f"trials_per_t must be at least 1, got {trials_per_t}")
    m = _model(model)
    ts = paper_grid(m) if grid is None else np.asarray(grid, dtype=np.float64)
    _check_seed(seed)
    # Its own stream: the same seed must not replay simulate()'s trials here.
    rng = np.random.default_rng([seed, _PAPER_STREAM])
    allowed = math.floor((1.0 - target) * trials_per_t + 1e-9)
    drawn = 0
    for i, t in enumerate(ts):
        stale = 0
        done = 0
        block = 2048
        while done < trials_per_t and stale <= allowed:
            size = min(block, trials_per_t - done)
            window, _, _ = evaluate(draw_trials(m, n, size, rng), r, w)
            stale += int(np.count_nonzero(window > t))
            done += size
            block = min(block * 2, CHUNK)
        drawn += done
        if stale <= allowed:
            return PaperSweep(float(t), 1.0 - stale / trials_per_t, i + 1, drawn)
    return PaperSweep(None, None, len(ts), drawn)


def t_visibility(
    n: int,
    r: int,
    w: int,
    model: str | LatencyModel = "LNKD-SSD",
    *,
    target: float = 0.999,
    method: Method = "quantile",
    trials: int = 1_000_000,
    seed: int = 0,
) -> float | None:
    """The t (ms after commit) for ``target`` consistent reads, by either method.

    ``trials`` is the sample size for ``quantile`` and the fresh trials per t
    for ``paper`` (whose default in the paper was 50,000). None means the
    paper's grid ended before the target was reached.
    """
    if method == "quantile":
        return simulate(n, r, w, model, trials=trials, seed=seed).t_visibility(target)
    if method == "paper":
        return paper_t_visibility(n, r, w, model, target=target, trials_per_t=trials, seed=seed).t
    raise ValueError(f"unknown method {method!r}; use 'quantile' or 'paper'")


# --- k-staleness ---------------------------------------------------------------------------


def k_staleness(n: int, r: int, w: int, k: int = 1) -> float:
    """P(a read returns one of the last ``k`` committed versions), in closed form.

    Replicas are chosen uniformly at random for each quorum (the paper's
    section 3 model, no anti-entropy): a read misses a given write when its R
    replicas all avoid that write's W, probability C(N-W, R) / C(N, R), and
    misses all of the last k independent writes with that probability to the k.
    """
    check_nrw(n, r, w)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    miss = math.comb(n - w, r) / math.comb(n, r)
    return 1.0 - miss**k


__all__ = [
    "CHUNK",
    "FIGURE_T_MAX",
    "METHODS",
    "PAPER_GRIDS",
    "PAPER_TRIALS_PER_T",
    "Method",
    "PBSResult",
    "PaperSweep",
    "WarsDraws",
    "check_nrw",
    "draw_trials",
    "evaluate",
    "k_staleness",
    "paper_grid",
    "paper_t_visibility",
    "simulate",
    "t_visibility",
    "wilson_interval",
]
