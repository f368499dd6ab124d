"""Pictures that never mislead: what a student must see, measured after drawing.

No pixels are compared. Each test lays the figure out (``draw``), then
checks bounding boxes and geometry in display coordinates: labels do not
overlap, every request bar says what it was, every message is a visible
arrow, a lock is drawn where the policy reported it, fault bands cover
exactly the fault, and the availability strip does not dip outside faults.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
from matplotlib.patches import FancyArrowPatch
from typer.testing import CliRunner

import capsim
from capsim.cli import app
from capsim.plot import compare, messages, rolling, timeline
from capsim.result import RunResult
from tests.plot_cases import gids, seed, workload

ROOT = Path(__file__).resolve().parents[1]


def _lock_run() -> RunResult:
    return capsim.simulate(capsim.load_scenario(ROOT / "scenarios" / "lock.yaml"))


def _renderer(fig):
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    return fig.canvas.get_renderer()


def _shown_texts(fig):
    """Texts a student sees inside the axes (labels, annotations), with their boxes."""
    r = _renderer(fig)
    out = []
    for ax in fig.axes:
        for t in ax.texts:
            if t.get_visible() and t.get_text().strip():
                out.append((t.get_text(), t.get_window_extent(r)))
    return out


def _assert_no_overlap(fig):
    shown = _shown_texts(fig)
    for (a, ba), (b, bb) in itertools.combinations(shown, 2):
        assert not ba.overlaps(bb), f"{a!r} overlaps {b!r}"


@pytest.mark.parametrize("picture", ["seed-compare", "seed-ap", "lock", "lock-zh", "workload"])
def test_no_two_labels_overlap(picture):
    if picture.endswith("-zh"):
        from capsim.plot.style import cjk_font

        if cjk_font() is None:
            pytest.skip("no Chinese font installed (or --no-cjk-font): zh labels fall back")
    if picture == "seed-compare":
        fig = compare([seed("cp"), seed("ap")])
    elif picture == "seed-ap":
        fig = messages(seed("ap"))
    elif picture == "lock":
        fig = timeline(_lock_run())
    elif picture == "lock-zh":
        fig = timeline(_lock_run(), lang="zh")
    else:
        fig = timeline(workload("cp"), label_ops=True)  # forced labels: the worst case
    _assert_no_overlap(fig)


def test_every_request_bar_in_the_lock_story_says_what_it_was():
    r = _lock_run()
    fig = timeline(r)
    ax = fig.axes[0]
    rend = _renderer(fig)
    ops = r.history.operations()
    assert len(ops) == 7
    for op in ops:
        (bar,) = gids(ax, f"op:{op.invoke.index}:")
        (label,) = [t for t in ax.texts if t.get_gid() == f"oplabel:{op.invoke.index}"]
        assert label.get_visible(), f"the {op.f} at t={op.start} has no label"
        text = label.get_text()
        assert text.startswith(("read", "R") if op.f == "read" else ("write", "W"))
        if op.type == "fail":
            assert "✗" in text
        if op.type == "info":
            assert "?" in text
        # The label sits on its bar or right after it, in the same lane.
        lb, bb = label.get_window_extent(rend), bar.get_window_extent(rend)
        assert lb.y0 < (bb.y0 + bb.y1) / 2 < lb.y1
        assert bb.x0 - 2 <= lb.x0 <= bb.x1 + 12


def test_the_lock_story_draws_g2_locked_where_the_policy_reported_it():
    r = _lock_run()
    # The policy says so through the run (Marked observations), not its internals.
    g2 = [(m.time, m.mark) for m in r.marks if m.node == "G2"]
    assert [mark for _, mark in g2] == ["locked", None]
    (t_lock, _), (t_unlock, _) = g2
    # bob's requests refused because G2 was locked all fall inside that span.
    refused = [op for op in r.history.operations()
               if op.process == "bob" and op.type == "fail" and "locked" in op.complete.error]
    assert refused and all(t_lock <= op.start < t_unlock for op in refused)
    fig = timeline(r)
    ax = fig.axes[0]
    (hatch,) = gids(ax, "locked:G2:x")
    assert (hatch.get_x(), round(hatch.get_x() + hatch.get_width(), 6)) == (t_lock, t_unlock)
    (label,) = gids(ax, "lockedlabel:G2")
    assert label.get_text() == "G2 locked" and label.get_visible()
    rend = _renderer(fig)
    lb, hb = label.get_window_extent(rend), hatch.get_window_extent(rend)
    assert hb.x0 - 1 <= lb.x0 and lb.x1 <= hb.x1 and hb.y0 <= lb.y0 and lb.y1 <= hb.y1
    assert "replica locked (refuses reads and writes)" in [
        t.get_text() for t in fig.legends[0].get_texts()]
    from capsim.plot.style import cjk_font

    if cjk_font() is not None:  # without a Chinese font the picture falls back to English
        assert "G2 已加锁" in [t.get_text() for t in timeline(r, lang="zh").axes[0].texts]


def test_lock_marks_survive_the_run_folder(tmp_path):
    out = tmp_path / "lock"
    res = CliRunner().invoke(app, ["run", str(ROOT / "scenarios" / "lock.yaml"), "--out",
                                   str(out), "--no-plot"])
    assert res.exit_code == 0, res.output
    loaded = RunResult.load(out)
    assert loaded.marks == _lock_run().marks
    assert gids(timeline(loaded).axes[0], "locked:G2:x")


def _arrow_ends(arrow, renderer):
    """Drawn start and tip of an arrow, in pixels."""
    v = arrow.get_transform().transform(arrow.get_path().vertices)
    start = v[0]
    tip = v[np.argmax(np.hypot(*(v - start).T))]
    return start, tip


def test_every_message_is_a_visible_arrow_and_the_replicate_of_v1_is_not_hidden():
    r = seed("ap")
    fig = messages(r)
    ax = fig.axes[0]
    rend = _renderer(fig)
    arrows = [a for a in ax.patches + ax.artists
              if isinstance(a, FancyArrowPatch) and (a.get_gid() or "").startswith("msg:")]
    counted = sum(int(a.get_gid().split(":x")[1]) if ":x" in a.get_gid() else 1
                  for a in arrows)
    assert counted == len(r.messages)  # every message drawn, merged ones counted
    ends = {a.get_gid(): _arrow_ends(a, rend) for a in arrows}
    for (ga, (sa, ta)), (gb, (sb, tb)) in itertools.combinations(ends.items(), 2):
        same = np.hypot(*(sa - sb)) < 3 and np.hypot(*(ta - tb)) < 3
        assert not same or ":x" in ga or ":x" in gb, f"{ga} hides {gb}"
    # alice's replicate of v1 at t=2 (cut by the partition) has its own arrow and says v1.
    (i,) = [i for i, m in enumerate(r.messages) if m.kind == "replicate"]
    (rep,) = [a for a in arrows if a.get_gid().startswith(f"msg:{i}:")]
    (label,) = [t for t in ax.texts if t.get_gid() == f"msglabel:{i}"]
    assert label.get_text() == "v1" and label.get_visible()
    assert rep.get_window_extent(rend).height > 20


def test_identical_messages_are_merged_with_a_count():
    r = seed("ap")
    twice = dataclasses.replace(r, messages=[*r.messages, r.messages[0]])
    ax = messages(twice).axes[0]
    merged = [a for a in gids(ax, "msg:") if ":x2" in a.get_gid()]
    assert len(merged) == 1
    assert any(t.get_text().endswith("×2") for t in ax.texts)


def test_the_partition_band_covers_exactly_the_fault():
    r = seed("cp")
    for fig in (timeline(r), messages(r), compare([r, seed("ap")])):
        ax = fig.axes[0]
        (shade,) = gids(ax, "shade:partition")
        xs = ax.transData.inverted().transform(shade.get_verts())[:, 0]
        (f,) = [f for f in r.faults if f.kind == "partition"]
        assert (round(xs.min(), 6), round(xs.max(), 6)) == (f.start, f.end)


def test_the_availability_strip_dips_only_inside_the_partition():
    r = workload("cp")
    roll = rolling(r, window=1.0, points=601)  # t = 0.00 … 6.00, partition 2–4
    t, av = roll.t, roll.availability
    outside = (t < 2.0) | (t >= 4.0)
    assert np.nanmin(av[outside]) == 1.0  # no dip before the cut, after the heal, at the end
    assert np.nanmax(av[(t >= 2.0) & (t < 4.0)]) < 1.0
    assert not np.isnan(av[-1])  # the last instant has a full window too


def test_pbs_plot_target_line_is_visible_below_the_frame(tmp_path):
    from capsim.pbs.montecarlo import simulate
    from capsim.pbs.plot import t_visibility_figure

    res = simulate(3, 1, 1, "LNKD-DISK", trials=20_000, seed=0)
    fig = t_visibility_figure(res, t_max=100.0, target=0.999, t_target=res.t_visibility(0.999))
    top = fig.axes[0]
    rend = _renderer(fig)
    (line,) = gids(top, "target")
    y_line = top.transData.transform((0, 0.999))[1]
    frame_top = top.get_window_extent(rend).y1
    assert frame_top - y_line >= 4  # pixels between the target and the frame
    from capsim import palette

    assert line.get_color() == palette.TARGET_LINE
    assert top.lines[0].get_color() == palette.POLICY_STYLES["quorum"]["colour"]


def test_quorum_sweep_marks_which_points_have_r_plus_w_above_n():
    from matplotlib.figure import Figure

    from capsim.sweep.plot import plot_sweep

    rows = [{"params.quorum.r": r, "params.quorum.w": w, "stale_reads.rate": 0.1 / (r * w),
             "availability.node.G1": 1, "availability.node.G2": 1, "availability.node.G3": 1}
            for r in (1, 2, 3) for w in (1, 2, 3) for _ in range(3)]
    ax = Figure().subplots()
    plot_sweep(rows, "params.quorum.r", "stale_reads.rate", "params.quorum.w", ax=ax)
    points = gids(ax, "point:")
    assert len(points) == 9
    for p in points:
        _, w, r, kind = p.get_gid().split(":")
        assert kind == ("strict" if int(r) + int(w) > 3 else "partial")
        filled = p.get_markerfacecolor() != "white"
        assert filled == (kind == "strict")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "R + W > N (N = 3): every read quorum meets every write quorum" in legend
    assert ax.get_xlabel() == "R: replies a read waits for"
    assert ax.get_ylim()[0] <= 0  # from zero: no exaggeration


def test_a_big_run_still_shows_the_partition_and_draws_one_artist_per_kind(monkeypatch):
    """Above AGGREGATE_OPS requests: shares per time slice, lag bands, collections."""
    import importlib

    from matplotlib.colors import to_hex

    from capsim import palette

    tl = importlib.import_module("capsim.plot.timeline")  # the name is also a function

    monkeypatch.setattr(tl, "AGGREGATE_OPS", 50)  # the 109-request workload counts as big
    r = workload("cp")  # G3 cut off from t=2 to t=4
    fig = timeline(r)
    ax = fig.axes[0]
    assert gids(ax, "op:") == [] and gids(ax, "band:") == []  # no artist per request or band
    (bands,) = gids(ax, "bands")
    fails = gids(ax, "shares:fail")
    assert len(fails) == 1 and len(gids(ax, "shares:ok")) == 1
    # The refused time of G3's clients lies in the partition (a request sent just before the
    # cut waits into it; one sent just before the heal ends after it).
    timeout = r.scenario.timeout
    inside = outside = 0.0
    for path in fails[0].get_paths():
        x0, x1 = path.vertices[:, 0].min(), path.vertices[:, 0].max()
        assert 2.0 - timeout <= x0 and x1 <= 4.0 + timeout
        inside += max(0.0, min(x1, 4.0) - max(x0, 2.0))
        outside += (x1 - x0) - max(0.0, min(x1, 4.0) - max(x0, 2.0))
    assert inside > 1.9 and outside <= timeout  # at most one request either side
    # G3's lane is "behind" for most of the partition.
    g3_y = next(y for (n, _), y in tl.layout(r).replica_y.items() if n == "G3")
    behind = 0.0
    for path, fc in zip(bands.get_paths(), bands.get_facecolors(), strict=True):
        v = path.vertices
        on_g3 = abs((v[:, 1].min() + v[:, 1].max()) / 2 - g3_y) < 0.01
        if on_g3 and to_hex(fc) == palette.LANE_BEHIND.lower():
            behind += max(0.0, min(v[:, 0].max(), 4.0) - max(v[:, 0].min(), 2.0))
    assert behind > 1.5
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "replica behind the newest write" in legend
    # Under ap, the violation is still drawn as the write → missed read arrow.
    assert gids(timeline(workload("ap")).axes[0], "missed:")
