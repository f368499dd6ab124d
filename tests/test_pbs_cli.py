"""``capsim pbs`` from a student's terminal: tables, JSON, plots, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app
from capsim.pbs import k_staleness, simulate

runner = CliRunner()
WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}


def pbs(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["pbs", *args], env=WIDE)
    return result.exit_code, result.stdout, result.stderr


def test_prints_the_t_visibility_curve_the_target_and_the_paper() -> None:
    code, out, _ = pbs(
        "--nrw", "3,1,1", "--model", "LNKD-DISK", "--trials", "200000", "--seed", "1"
    )
    assert code == 0, out
    assert "N=3 R=1 W=1 on LNKD-DISK" in out
    assert "P(consistent read)" in out
    assert "t for 99.9% consistent reads" in out
    assert "99.9th percentile latency" in out
    assert "The paper (Table 4): t for 99.9% 45.5 ms" in out
    res = simulate(3, 1, 1, "LNKD-DISK", trials=200_000, seed=1)
    assert f"{res.t_visibility(0.999):.4g} ms" in out
    assert f"{res.p_consistent(0.0):.2%}" in out


def test_json_is_the_library_result() -> None:
    code, out, _ = pbs(
        "--nrw", "5,2,2", "--model", "ymmr", "--trials", "50000", "--seed", "4", "--json"
    )
    assert code == 0
    doc = json.loads(out)
    res = simulate(5, 2, 2, "YMMR", trials=50_000, seed=4)
    assert (doc["n"], doc["r"], doc["w"], doc["model"]) == (5, 2, 2, "YMMR")
    assert doc["t_visibility_ms"] == res.t_visibility(0.999)
    assert doc["read_latency_p999_ms"] == res.read_latency(0.999)
    assert doc["write_latency_p999_ms"] == res.write_latency(0.999)
    assert doc["p_consistent_at_commit"] == res.p_consistent(0.0)
    assert doc["strict_quorum"] is False
    ts = [row["t_ms"] for row in doc["curve"]]
    ps = [row["p_consistent"] for row in doc["curve"]]
    assert ts[0] == 0.0 and ts == sorted(ts) and ps == sorted(ps)
    assert all(
        lo <= p <= hi for p, (lo, hi) in zip(ps, [row["ci95"] for row in doc["curve"]], strict=True)
    )
    assert doc["latency_model"]["w"][0] == [0.939, "pareto", {"xm": 3.0, "alpha": 3.5}]


def test_paper_method_reports_the_sweep_next_to_the_quantile() -> None:
    code, out, _ = pbs(
        "--model",
        "LNKD-SSD",
        "--method",
        "paper",
        "--paper-trials",
        "20000",
        "--trials",
        "100000",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    sweep = doc["paper_sweep"]
    assert doc["method"] == "paper"
    assert doc["t_visibility_ms"] == sweep["t_ms"]
    assert sweep["trials_per_t"] == 20_000
    assert round(sweep["t_ms"] / 0.01) == pytest.approx(sweep["t_ms"] / 0.01)  # on the 0.01 ms grid
    assert 1.4 < sweep["t_ms"] < 2.3
    code, text, _ = pbs(
        "--model", "LNKD-SSD", "--method", "paper", "--paper-trials", "20000", "--trials", "100000"
    )
    assert "paper's sweep: first grid t where 20,000 fresh trials" in text
    assert "the quantile method gives" in text


def test_k_staleness() -> None:
    code, out, _ = pbs("--nrw", "3,1,1", "--k", "2", "--trials", "1000")
    assert code == 0
    assert "last 2 versions" in out
    assert f"{k_staleness(3, 1, 1, 2):.4%}" in out  # 55.5556%
    doc = json.loads(pbs("--nrw", "3,1,1", "--k", "3", "--trials", "1000", "--json")[1])
    assert doc["k_staleness"] == {"k": 3, "p_within_k_versions": k_staleness(3, 1, 1, 3)}


@pytest.mark.parametrize(
    ("nrw", "message"),
    [
        ("3,1", "three whole numbers"),
        ("3,1,1,1", "three whole numbers"),
        ("a,b,c", "three whole numbers"),
        ("3,-1,1", "three whole numbers"),
        ("3,4,1", "R=4 is more than N=3"),
        ("3,1,4", "W=4 is more than N=3"),
        ("0,1,1", "N must be at least 1"),
        ("3,0,1", "R must be at least 1"),
    ],
)
def test_bad_nrw_is_a_clear_error(nrw: str, message: str) -> None:
    code, out, err = pbs("--nrw", nrw, "--trials", "100")
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "SSD"], "choose one of LNKD-SSD, LNKD-DISK, YMMR, WAN"),
        (["--target", "1.5"], "--target 1.5"),
        (["--target", "0"], "--target 0.0"),
        (["--t-max", "-3"], "--t-max -3.0"),
    ],
)
def test_other_bad_options(args: list[str], message: str) -> None:
    code, _, err = pbs(*args, "--trials", "100")
    assert code == 2
    assert message in err


def test_plot_is_written_and_not_overwritten_without_force(tmp_path: Path) -> None:
    target = tmp_path / "curve.png"
    code, out, _ = pbs("--model", "WAN", "--trials", "20000", "--plot", str(target))
    assert code == 0, out
    first = target.read_bytes()
    assert first.startswith(b"\x89PNG")
    assert f"plot: {target}" in out
    code, _, err = pbs("--model", "WAN", "--trials", "20000", "--plot", str(target))
    assert code == 2 and "--force" in err
    assert target.read_bytes() == first
    code, _, _ = pbs(
        "--model", "WAN", "--trials", "20000", "--seed", "3", "--plot", str(target), "--force"
    )
    assert code == 0 and target.read_bytes() != first
    svg = tmp_path / "curve.svg"
    assert pbs("--trials", "5000", "--plot", str(svg))[0] == 0
    assert b"<svg" in svg.read_bytes()[:400]
    code, _, err = pbs("--trials", "5000", "--plot", str(tmp_path / "curve.txt"))
    assert code == 2 and ".png, .svg or .pdf" in err
    assert not (tmp_path / "curve.txt").exists()


def test_help_explains_both_methods() -> None:
    result = runner.invoke(app, ["pbs", "--help"], env=WIDE)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "quantile (default)" in text
    assert "first t whose estimate reaches the target" in text
    for option in (
        "--nrw",
        "--model",
        "--trials",
        "--t-max",
        "--target",
        "--method",
        "--seed",
        "--json",
        "--plot",
        "--k",
    ):
        assert option in text


def test_plot_draws_the_curve_and_the_target(tmp_path: Path) -> None:
    """The figure the CLI saves, checked as matplotlib objects rather than pixels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from capsim.pbs.plot import plot_t_visibility

    res = simulate(3, 1, 1, "LNKD-DISK", trials=50_000, seed=0)
    t = res.t_visibility(0.999)
    fig, (top, bottom) = plt.subplots(2, 1)
    try:
        plot_t_visibility(res, t_max=100.0, target=0.999, t_target=t, ax=top)
        plot_t_visibility(res, t_max=100.0, target=0.999, t_target=t, stale=True, ax=bottom)
        curve = top.lines[0]
        xs, ys = curve.get_xdata(), curve.get_ydata()
        assert xs[0] == 0.0 and xs[-1] == 100.0
        assert ys[0] == pytest.approx(res.p_consistent(0.0))
        assert [line.get_ydata()[0] for line in top.lines[1:2]] == [0.999]
        assert bottom.get_yscale() == "log"
        assert bottom.lines[1].get_ydata()[0] == pytest.approx(0.001)
        assert top.lines[2].get_xdata()[0] == t
    finally:
        plt.close(fig)
