"""The pictures, checked by structure (lanes, spans, bars, highlights), not pixels.

Every artist capsim draws carries a gid (``op:<invoke index>:<outcome>…``,
``band:<node>:<key>:<n>``, ``fault:…``, ``shade:…``), so a test can ask
"is bob's read during the partition hatched as stale?" the way a student
would look for it.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from capsim.plot import (
    compare,
    figure_bytes,
    messages,
    metrics_over_time,
    planned_files,
    rolling,
    save_run_plots,
    style,
    timeline,
)
from capsim.plot.timeline import LABEL_LIMIT, STRIP_MIN_OPS
from tests.plot_cases import crash, gids, seed, texts, workload


def _bar(ax, index):
    (bar,) = [a for a in gids(ax, f"op:{index}:")]
    return bar


def _xspan(patch, ax):
    """Data x-extent of a span drawn with a blended transform (axvspan)."""
    xs = ax.transData.inverted().transform(patch.get_verts())[:, 0]
    return round(xs.min(), 6), round(xs.max(), 6)


def _hex(c):
    return to_hex(c, keep_alpha=False)


# --- timeline: the seed story --------------------------------------------
def test_ap_timeline_shows_bobs_stale_read_in_the_colour_of_v0():
    r = seed("ap")
    fig = timeline(r)
    ax = fig.axes[0]
    assert {a.get_gid() for a in gids(ax, "lane:")} == {
        "lane:replica:G1:x", "lane:replica:G2:x", "lane:client:alice", "lane:client:bob"}
    ops = r.history.operations()
    assert len(gids(ax, "op:")) == len(ops) == 3
    write, read_during, read_after = ops
    stale = _bar(ax, read_during.invoke.index)
    assert stale.get_gid().startswith(f"op:{read_during.invoke.index}:ok:stale")
    assert stale.get_hatch() == style.HATCH_STALE
    assert _hex(stale.get_edgecolor()) == style.STALE.lower()
    assert _bar(ax, read_after.invoke.index).get_hatch() is None
    # The checker names alice's write and bob's read: drawn as the relation
    # (an arrow from the acknowledged write to the read that missed it), with
    # no blame on the write and no second frame on the stale read.
    lin = r.checks["linearizable"]
    assert lin["linearizable"] is False
    assert set(lin["ops"]) == {write.invoke.index, read_during.invoke.index}
    w_bar = _bar(ax, write.invoke.index)
    assert w_bar.get_hatch() is None
    assert _hex(w_bar.get_edgecolor()) == style.INK.lower()
    (arrow,) = gids(ax, "missed:")
    assert arrow.get_gid() == f"missed:{write.invoke.index}->{read_during.invoke.index}"
    assert _hex(arrow.get_edgecolor()) == style.VIOLATION.lower()
    assert gids(ax, "frame:") == []
    (brk,) = gids(ax, "breaks")
    assert list(brk.get_xdata()) == [lin["break_time"]] * 2
    # The bar is the colour of the value it returned: G2's v0 band, not G1's v1.
    g1 = gids(ax, "band:G1:x:")
    g2 = gids(ax, "band:G2:x:")
    assert (g1[0].get_x(), round(g1[0].get_x() + g1[0].get_width(), 2)) == (0.0, 2.0)
    assert g2[0].get_x() == 0.0 and g2[1].get_x() == pytest.approx(6.05)
    assert _hex(stale.get_facecolor()) == _hex(g2[0].get_facecolor())
    assert _hex(stale.get_facecolor()) != _hex(g1[1].get_facecolor())
    assert _hex(g1[1].get_facecolor()) == _hex(g2[1].get_facecolor())  # converged on v1
    assert "read v0 (stale)" in texts(ax)
    # The partition: a labelled bar on top, a shaded span across the lanes.
    (bar,) = gids(ax, "fault:partition")
    assert (bar.get_x(), bar.get_width()) == (1.0, 5.0)
    assert "G1 | G2 partitioned" in texts(ax)
    (shade,) = gids(ax, "shade:partition")
    assert _xspan(shade, ax) == (1.0, 6.0)
    (conv,) = gids(ax, "converged")
    assert list(conv.get_xdata()) == pytest.approx([6.05, 6.05])
    title = " ".join(texts(ax))
    assert "availability 100%" in title and "stale reads 1/2" in title
    assert "linearizable: no" in title


def test_cp_timeline_shows_refused_requests_during_the_partition():
    r = seed("cp")
    fig = timeline(r)
    ax = fig.axes[0]
    write, read_during, read_after = r.history.operations()
    for op in (write, read_during):
        bar = _bar(ax, op.invoke.index)
        assert bar.get_gid().endswith(":fail")
        assert _hex(bar.get_facecolor()) == style.FAIL_FILL.lower()
        assert bar.get_x() >= 1.0 and bar.get_x() + bar.get_width() <= 6.0  # inside the cut
    assert _bar(ax, read_during.invoke.index).get_width() == pytest.approx(0.8)  # 3.0 → 3.8
    assert _bar(ax, read_after.invoke.index).get_gid().endswith(":ok")
    assert {"write v1 ✗ refused", "read ✗ refused", "read v0"} <= set(texts(ax))
    assert gids(ax, "op:") and not [a for a in gids(ax, "op:") if "stale" in a.get_gid()]
    # cp's replicas never disagreed: no "converged" marker to distract.
    assert gids(ax, "converged") == []


def test_a_few_ops_need_no_metrics_strip_unless_asked():
    r = seed("ap")
    assert len(r.history) // 2 < STRIP_MIN_OPS
    fig = timeline(r)
    assert len(fig.axes) == 1
    # A notebook shows the returned figure even when pyplot was never imported.
    assert fig._repr_png_().startswith(b"\x89PNG")
    fig = timeline(r, metrics=True)
    assert len(fig.axes) == 2
    assert gids(fig.axes[1], "metric:availability")


def test_compare_stacks_the_policies_on_one_time_axis_with_one_colour_per_value():
    cp, ap = seed("cp"), seed("ap")
    fig = compare([cp, ap])
    a_cp, a_ap = fig.axes
    assert a_cp.get_title(loc="left") == "cp" and a_ap.get_title(loc="left") == "ap"
    assert "availability 33% (during partition 0%)" in a_cp.get_title(loc="right")
    assert "availability 100% (during partition 100%)" in a_ap.get_title(loc="right")
    assert a_cp.get_shared_x_axes().joined(a_cp, a_ap)
    assert a_cp.get_xlim() == a_ap.get_xlim()
    v0_cp = gids(a_cp, "band:G2:x:0")[0].get_facecolor()
    v0_ap = gids(a_ap, "band:G2:x:0")[0].get_facecolor()
    assert _hex(v0_cp) == _hex(v0_ap)
    # At a glance: the read during the partition is refused above, stale below.
    bob_cp = _bar(a_cp, cp.history.operations()[1].invoke.index)
    bob_ap = _bar(a_ap, ap.history.operations()[1].invoke.index)
    assert bob_cp.get_gid().endswith(":fail") and ":stale" in bob_ap.get_gid()
    legend = set(texts(fig.legends[0]))
    assert {"refused (fail)  ✗", "stale read", "network partition", "converged",
            "value v0", "value v1"} <= legend


def test_a_violation_is_drawn_as_the_write_the_read_missed_and_the_break_is_marked():
    r = seed("ap")
    fig = timeline(r)
    ax = fig.axes[0]
    write, stale_read = _bar(ax, 0), _bar(ax, 2)
    assert write.get_gid() == "op:0:ok:violation"
    assert write.get_hatch() is None  # the acknowledged write did nothing wrong
    assert stale_read.get_gid() == "op:2:ok:stale:violation"
    assert stale_read.get_hatch() == style.HATCH_STALE
    (arrow,) = gids(ax, "missed:")
    # It starts on alice's write bar and ends at bob's read bar, as drawn.
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    drawn = arrow.get_window_extent(renderer)
    assert drawn.width > 20 and drawn.height > 20  # a visible arrow, not a dot
    for bar in (write, stale_read):  # touching it (the head stops a few pixels short)
        assert drawn.overlaps(bar.get_window_extent(renderer).padded(6))
    assert _bar(ax, 4).get_hatch() is None
    (line,) = gids(ax, "breaks")
    assert list(line.get_xdata()) == [3.0, 3.0]
    legend = texts(fig.legends[0])
    assert "acknowledged write → the read that missed it" in legend
    assert "in a linearizability violation" not in legend
    assert "linearizable: no" in ax.get_title(loc="right")


def test_a_crash_is_shown_on_the_crashed_replica_only():
    r = crash("cp")
    ax = timeline(r).axes[0]
    (over,) = gids(ax, "crash:")
    assert over.get_gid().startswith("crash:G3:x") and (over.get_x(), over.get_width()) == (2, 3)
    assert "G3 down" in texts(ax)
    assert gids(ax, "shade:") == []  # a crash is not a partition
    carol_down = r.history.operations()[1]
    assert carol_down.type == "info"
    bar = _bar(ax, carol_down.invoke.index)
    assert bar.get_gid().endswith(":info") and bar.get_linestyle() != "solid"


# --- generated workloads -------------------------------------------------
def test_workload_timeline_has_a_bar_per_request_and_every_stale_read_highlighted():
    r = workload("ap")
    ops = r.history.operations()
    assert len(ops) > LABEL_LIMIT  # too many to label: bars only
    fig = timeline(r)
    lanes, strip = fig.axes
    # Unlabelled bars are drawn as collections, one artist per look, not patch by patch.
    assert gids(lanes, "op:") == []
    colls = gids(lanes, "ops:")
    assert len(colls) <= 3
    drawn = [i for c in colls for i in c.capsim_ops]
    assert sorted(drawn) == sorted(op.invoke.index for op in ops)
    assert all(len(c.get_paths()) == len(c.capsim_ops) for c in colls)
    (stale,) = gids(lanes, "ops:stale")
    assert sorted(stale.capsim_ops) == sorted(r.checks["stale_reads"]["ops"])
    assert len(stale.capsim_ops) == r.checks["stale_reads"]["count"] > 0
    assert stale.get_hatch() == style.HATCH_STALE
    assert {a.get_gid() for a in gids(lanes, "lane:client:")} == {
        "lane:client:w1", "lane:client:w2", "lane:client:w3"}
    assert not [t for t in texts(lanes) if t.startswith(("read ", "write "))]
    assert gids(strip, "metric:availability") and gids(strip, "metric:stale")
    (shade,) = gids(strip, "metrics-shade:partition")
    assert _xspan(shade, strip) == (2.0, 4.0)


def test_cp_availability_dips_during_the_partition_in_the_rolling_window():
    r = workload("cp")
    roll = rolling(r, window=1.0, points=601)  # t = 0.00, 0.01, … 6.00
    av = roll.availability
    assert (av[250:351] < 1.0).all()  # G3's clients are refused while G3 is cut off
    assert (av[30:121] == 1.0).all() and (av[460:500] == 1.0).all()  # before, after
    assert np.nanmax(roll.stale_rate) == 0.0  # cp never reads stale


def test_many_keys_become_sub_lanes_with_a_note_when_some_are_left_out():
    r = workload("ap", keys=6)
    ax = timeline(r).axes[0]
    lanes = {a.get_gid() for a in gids(ax, "lane:replica:")}
    assert lanes == {f"lane:replica:{n}:k{i}" for n in ("G1", "G2", "G3") for i in range(4)}
    assert "keys shown: k0, k1, k2, k3 (4/7)" in texts(ax)  # k0…k5 and the initial x


# --- metrics over time -----------------------------------------------------
def test_rolling_windows_are_centred_and_empty_windows_are_gaps():
    cp = rolling(seed("cp"), window=1.0, points=1001)  # t = 0.00, 0.01, … 10.00
    assert cp.availability[300] == 0.0  # bob's refused read at t=3
    assert cp.availability[800] == 1.0  # bob's read after the heal
    assert np.isnan(cp.availability[550])  # nobody asked anything around t=5.5
    assert cp.availability[751] == 1.0 and np.isnan(cp.availability[749])  # centred: ±0.5 s
    ap = rolling(seed("ap"), window=1.0, points=1001)
    assert ap.stale_rate[300] == 1.0 and ap.stale_rate[800] == 0.0
    with pytest.raises(ValueError, match="window"):
        rolling(seed("ap"), window=0)


def test_metrics_over_time_draws_both_rates_with_partitions_shaded():
    fig = metrics_over_time(seed("ap"), window=2.0)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    (avail,) = gids(ax, "metric:availability")
    assert np.nanmax(avail.get_ydata()) == 100.0
    assert gids(ax, "metric:stale") and gids(ax, "metrics-shade:partition")
    assert "rolling window 2 s" in texts(ax)


# --- messages ----------------------------------------------------------------
def test_messages_draws_an_arrow_per_message_and_a_cross_per_drop():
    r = seed("cp")
    fig = messages(r)
    ax = fig.axes[0]
    arrows = gids(ax, "msg:")
    assert len(arrows) == len(r.messages) == 4
    drops = gids(ax, "drop:")
    assert len(drops) == sum(m.status != "delivered" for m in r.messages) == 2
    assert {d.get_gid().split(":")[2] for d in drops} == {"cut"}
    assert "dropped at a cut link" in texts(fig.legends[0])


def test_many_messages_are_drawn_as_one_collection(monkeypatch):
    module = importlib.import_module("capsim.plot.messages")  # the name is also a function
    monkeypatch.setattr(module, "ARROW_LIMIT", 10)
    r = workload("ap")
    ax = messages(r).axes[0]
    assert gids(ax, "msg:") == []
    assert gids(ax, "messages")
    assert len(gids(ax, "drop:")) == sum(m.status != "delivered" for m in r.messages) > 0


def test_messages_to_a_crashed_node_end_at_it():
    r = crash("ap")
    ax = messages(r).axes[0]
    downs = [d for d in gids(ax, "drop:") if d.get_gid().endswith(":down")]
    assert len(downs) == sum(m.status == "down" for m in r.messages) > 0
    assert gids(ax, "crash:G3")


# --- axes, formats, files ----------------------------------------------------
def test_functions_draw_into_a_given_axes_and_return_it():
    r = seed("ap")
    fig = Figure()
    ax = fig.add_subplot()
    assert timeline(r, ax=ax, metrics=True) is ax
    assert len(fig.axes) == 2  # the strip was appended below
    assert gids(ax, "op:")
    for fn in (messages, metrics_over_time):
        fig = Figure()
        ax = fig.add_subplot()
        assert fn(r, ax=ax) is ax
        assert ax.get_children()


def test_png_svg_pdf_are_real_files_and_svg_keeps_the_gids():
    fig = compare([seed("cp"), seed("ap")])
    png = figure_bytes(fig, "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    svg = figure_bytes(fig, "svg")
    assert b"<svg" in svg and b'id="op:2:ok:stale' in svg
    assert figure_bytes(fig, "pdf").startswith(b"%PDF")
    again = timeline(seed("ap"))
    assert figure_bytes(again, "svg") == figure_bytes(timeline(seed("ap")), "svg")  # reproducible


def test_save_run_plots_lays_files_out_like_the_run_folder(tmp_path):
    one = save_run_plots([seed("ap")], tmp_path / "one")
    assert one == [tmp_path / "one" / "timeline.png"]
    both = save_run_plots([seed("cp"), seed("ap")], tmp_path / "two", formats=("svg",))
    rel = sorted(str(p.relative_to(tmp_path / "two")) for p in both)
    assert rel == ["ap/timeline.svg", "compare.svg", "cp/timeline.svg"]
    assert all(p.stat().st_size > 0 for p in both)
    planned = planned_files([seed("cp"), seed("ap")], tmp_path, ("png", "pdf"), messages=True)
    assert sorted(str(p.relative_to(tmp_path)) for p in planned) == sorted(
        f"{d}{n}.{f}" for f in ("png", "pdf") for d, n in [
            ("cp/", "timeline"), ("cp/", "messages"), ("ap/", "timeline"), ("ap/", "messages"),
            ("", "compare")])
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave nothing behind
    with pytest.raises(ValueError, match="gif"):
        save_run_plots([seed("ap")], tmp_path / "x", formats=("gif",))


_TWO_WAYS = """
import os, sys
from pathlib import Path
from capsim.plot import save as S
from capsim import seed_scenario, simulate
out = Path(sys.argv[1])
real = S._render
def render(job):
    with open(out / "pids", "a") as f:
        f.write(f"{os.getpid()}\\n")
    return real(job)
S._render = render
rs = [simulate(seed_scenario(), policy=p, seed=0) for p in ("cp", "ap")]
S.save_run_plots(rs, out / "one", formats=("png", "svg"), workers=1)
S.save_run_plots(rs, out / "two", formats=("png", "svg"), workers=2)
print(os.getpid())
"""


@pytest.mark.skipif(sys.platform != "linux", reason="pictures are drawn side by side only on Linux")
def test_pictures_drawn_side_by_side_are_the_same_files(tmp_path):
    # A fresh interpreter: forking is only allowed from a process with one thread.
    done = subprocess.run([sys.executable, "-c", _TWO_WAYS, str(tmp_path)], text=True,
                          capture_output=True, timeout=120, check=True)
    one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.*"))
    assert [str(p) for p in one] == ["ap/timeline.png", "ap/timeline.svg", "compare.png",
                                     "compare.svg", "cp/timeline.png", "cp/timeline.svg"]
    for rel in one:
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes()
    pids = (tmp_path / "pids").read_text().split()
    parent = done.stdout.strip()
    assert pids[:3] == [parent] * 3  # workers=1: all three pictures here
    assert parent not in pids[3:] and len(pids) == 6  # workers=2: none here


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="en, zh"):
        timeline(seed("ap"), lang="fr")


def test_importing_capsim_and_simulating_does_not_import_matplotlib():
    code = ("import sys, capsim; capsim.simulate(capsim.seed_scenario(), policy='ap'); "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_no_warnings_while_drawing_in_english():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure_bytes(compare([workload("cp"), workload("ap")]), "png")


def test_the_notebook_example_in_docs_runs(monkeypatch):
    """Runs on any machine: without a CJK font the zh example draws English and warns once."""
    import contextlib
    import re
    from pathlib import Path

    import matplotlib.pyplot as plt

    from capsim.plot import FontWarning, cjk_font, style

    text = (Path(__file__).parent.parent / "docs" / "plots.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    uses_zh = any('lang="zh"' in code for code in blocks)
    monkeypatch.setattr(style, "_warned", False)
    expect: contextlib.AbstractContextManager[object] = (
        pytest.warns(FontWarning, match="no Chinese font found")
        if uses_zh and cjk_font() is None else contextlib.nullcontext()
    )
    try:
        with expect:
            for code in blocks:
                exec(compile(code, "docs/plots.md", "exec"), {})
    finally:
        plt.close("all")
