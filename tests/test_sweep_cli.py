"""`capsim sweep FILE` and `capsim sweep plot DIR`, as a user types them."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app
from tests.paths import ROOT
from tests.sweep_helpers import SMALL, write_small

runner = CliRunner()


@pytest.fixture(scope="session")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small sweep run through the CLI on two local processes."""
    d = tmp_path_factory.mktemp("cli")
    f = write_small(d)
    res = runner.invoke(app, ["sweep", str(f), "--workers", "2", "--out", str(d / "out")])
    assert res.exit_code == 0, res.output
    (d / "stdout.txt").write_text(res.stdout)
    (d / "stderr.txt").write_text(res.stderr)
    return d


def test_sweep_shows_progress_table_and_files(swept: Path) -> None:
    err = (swept / "stderr.txt").read_text()
    assert "12 runs on 2 local worker processes" in err
    # not a terminal: a plain line per tenth of the way, the last one complete
    lines = [ln for ln in err.splitlines() if ln.startswith("small: ") and "runs/s" in ln]
    assert 2 <= len(lines) <= 11
    assert lines[-1].startswith("small: 12/12 runs (100%), ") and "ETA 0:00:00" in lines[-1]
    out = (swept / "stdout.txt").read_text()
    assert "mean ± 95% CI over 3 seeds" in out
    assert "results.csv" in out and "results.parquet" in out
    assert (swept / "out" / "availability.overall-vs-partition_length.png").is_file()


def test_progress_bar_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then treats stderr as a terminal
    monkeypatch.setenv("COLUMNS", "120")
    f = write_small(tmp_path)
    res = runner.invoke(app, ["sweep", str(f), "--workers", "1", "--out", str(tmp_path / "o"),
                              "--no-plot"])
    assert res.exit_code == 0, res.output
    assert "━" in res.stderr  # the bar
    assert "12/12" in res.stderr and "runs/s" in res.stderr and "ETA" in res.stderr


def test_dry_run_counts_runs_and_writes_nothing(tmp_path: Path) -> None:
    f = write_small(tmp_path)
    res = runner.invoke(app, ["sweep", str(f), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "2 points × 2 policies × 3 seeds = 12 runs" in res.stdout
    assert "partition_length" in res.stdout and "would write runs/sweeps/small/" in res.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]
    assert not (Path.cwd() / "runs" / "sweeps" / "small").exists()


def test_default_command_and_explicit_run_are_the_same(tmp_path: Path) -> None:
    f = write_small(tmp_path)
    a = runner.invoke(app, ["sweep", "run", str(f), "--dry-run"])
    b = runner.invoke(app, ["sweep", "--dry-run", str(f)])
    assert a.exit_code == b.exit_code == 0
    assert a.stdout == b.stdout
    helps = runner.invoke(app, ["sweep", "--help"])
    assert helps.exit_code == 0 and "plot" in helps.stdout and "run" in helps.stdout


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (("seeds: 3", "seeds: three"), ["small.yaml:9: seeds:", "'three'"]),
        (("nemesis.1.at: [2.0, 5.0]", "nemesis.1.at: [2.0, 50.0]"),
         ["small.yaml:8: zip.nemesis.1.at:", "after the end of the run", "partition_length=4"]),
        (("zip:", "zap:"), ["unknown field 'zap'"]),
    ],
)
def test_bad_sweep_file_exits_2_with_file_line_field(
    tmp_path: Path, change: tuple[str, str], words: list[str]
) -> None:
    f = write_small(tmp_path, SMALL.replace(*change))
    res = runner.invoke(app, ["sweep", str(f), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert res.stderr.startswith("error: ")
    for w in words:
        assert w in res.stderr, res.stderr
    assert "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_missing_file_and_existing_output_exit_2(swept: Path) -> None:
    res = runner.invoke(app, ["sweep", str(swept / "nope.yaml")])
    assert res.exit_code == 2 and "no such file" in res.stderr
    res = runner.invoke(app, ["sweep", str(swept / "small.yaml"), "--out", str(swept / "out")])
    assert res.exit_code == 2 and "--resume" in res.stderr and "--force" in res.stderr
    res = runner.invoke(app, ["sweep", str(swept / "small.yaml"), "--scheduler",
                              "tcp://127.0.0.1:9", "--workers", "2"])
    assert res.exit_code == 2 and "leave --workers out" in res.stderr


def test_resume_of_a_finished_sweep_reuses_every_run(swept: Path, tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "out"
    shutil.copytree(swept / "out", out)
    before = (out / "results.csv").read_bytes()
    res = runner.invoke(app, ["sweep", str(swept / "small.yaml"), "--out", str(out),
                              "--resume", "--no-plot"])
    assert res.exit_code == 0, res.output
    assert "12 of 12 runs already finished" in res.stderr
    assert (out / "results.csv").read_bytes() == before


def test_dask_local_cluster_gives_identical_rows(swept: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, host="127.0.0.1",
        protocol="tcp", dashboard_address=None,
    ) as cluster:
        res = runner.invoke(app, ["sweep", str(swept / "small.yaml"), "--out",
                                  str(tmp_path / "out"), "--scheduler",
                                  cluster.scheduler_address, "--no-plot"])
        # interrupted on the cluster, then resumed there: still the same rows
        from capsim.sweep import SweepInterrupted, load_sweep, run_sweep

        def stop(done: int, total: int) -> None:
            if done >= 3:
                raise KeyboardInterrupt

        sweep = load_sweep(swept / "small.yaml")
        with pytest.raises(SweepInterrupted) as info:
            run_sweep(sweep, tmp_path / "cut", scheduler=cluster.scheduler_address,
                      plots=False, on_progress=stop)
        kept = (tmp_path / "cut" / "runs.jsonl").read_text().count("\n")
        assert kept == info.value.done >= 3
        resumed = run_sweep(sweep, tmp_path / "cut", scheduler=cluster.scheduler_address,
                            plots=False, resume=True)
    assert res.exit_code == 0, res.output
    assert "Dask at tcp://127.0.0.1:" in res.stderr
    reference = (swept / "out" / "results.csv").read_bytes()
    assert (tmp_path / "out" / "results.csv").read_bytes() == reference
    assert resumed.reused == kept and resumed.ran == 12 - kept
    assert (tmp_path / "cut" / "results.csv").read_bytes() == reference


def test_unreachable_scheduler_is_a_clear_error(swept: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from capsim.errors import CapsimError
    from capsim.sweep.run import DaskExecutor

    unreachable = r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"
    with pytest.raises(CapsimError, match=unreachable):
        DaskExecutor("tcp://127.0.0.1:9", timeout=0.5)


def test_plot_command_draws_mean_and_ci(swept: Path, tmp_path: Path) -> None:
    target = tmp_path / "p.png"
    args = ["sweep", "plot", str(swept / "out"), "--x", "partition_length", "--y",
            "stale_reads.rate", "--y", "availability.during_partition", "--out", str(target)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "--force" in res.stderr
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
    res = runner.invoke(app, ["sweep", "plot", str(swept / "out"), "--x", "latency"])
    assert res.exit_code == 2
    assert "--x 'latency' is not a column" in res.stderr and "partition_length" in res.stderr
    res = runner.invoke(app, ["sweep", "plot", str(tmp_path), "--x", "policy"])
    assert res.exit_code == 2 and "no results.csv" in res.stderr


def test_plot_axes_show_one_line_per_policy_with_the_means(swept: Path) -> None:
    from matplotlib.figure import Figure

    from capsim.sweep.plot import aggregate, plot_sweep
    from capsim.sweep.results import read_results

    _, table, params = read_results(swept / "out")
    ax = Figure().subplots()
    plot_sweep(table, "partition_length", "availability.overall", "policy", params=params,
               ax=ax)
    lines = {ln.get_gid().split(":", 1)[1]: ln for ln in ax.get_lines()
             if (ln.get_gid() or "").startswith("series:")}
    assert set(lines) == {"cp", "ap"}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cp", "ap"]
    cp = [r["availability.overall"] for r in table
          if r["policy"] == "cp" and r["partition_length"] == 4]
    assert list(lines["cp"].get_xdata()) == [1, 4]
    # Availability is drawn in percent, on the whole 0–100 % axis (no exaggeration).
    assert lines["cp"].get_ydata()[1] == pytest.approx(100 * sum(cp) / len(cp))
    lo, hi = ax.get_ylim()
    assert lo <= 0 and hi >= 100
    # Human axis labels with units, not raw column keys.
    assert ax.get_xlabel() == "partition length (s)"
    assert ax.get_ylabel().startswith("availability (share of requests answered, %)")
    # Policies keep their style from the palette: cp and ap never share a colour.
    from capsim import palette

    assert lines["cp"].get_color() == palette.POLICY_STYLES["cp"]["colour"]
    assert lines["ap"].get_color() == palette.POLICY_STYLES["ap"]["colour"]
    agg = aggregate(table, "partition_length", "availability.overall", "policy", params)
    assert agg.pooled == []  # nemesis.1.at moves with partition_length (zip): nothing pooled
    pooled = aggregate(table, "policy", "availability.overall", None, params)
    assert pooled.pooled == ["partition_length", "nemesis.1.at"]


def test_mean_ci_uses_student_t() -> None:
    from capsim.sweep.stats import mean_ci, t975

    mean, half, n = mean_ci([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, None])
    assert n == 10 and mean == 5.5
    assert half == pytest.approx(2.262 * 3.0276503540974917 / 10 ** 0.5)
    assert mean_ci([True, False, True, True]) [0] == 0.75
    assert mean_ci([3.0]) == (3.0, None, 1)
    for df, t in ((40, 2.021), (60, 2.000), (120, 1.980), (10_000, 1.960)):
        assert t975(df) == pytest.approx(t, abs=0.001)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_cleanly_and_resume_finishes(tmp_path: Path) -> None:
    text = SMALL.replace("seeds: 3", "seeds: 25").replace("rate: 10", "rate: 30")
    f = write_small(tmp_path, text)
    out = tmp_path / "out"
    journal = out / "runs.jsonl"
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "capsim", "sweep", str(f), "--workers", "2", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.is_file() and journal.read_text().count("\n") >= 3:
                break
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the parent and its workers
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted:" in err and "--resume" in err and "Traceback" not in err
    kept = journal.read_text().count("\n")
    assert 3 <= kept < 100
    res = runner.invoke(app, ["sweep", str(f), "--workers", "2", "--out", str(out),
                              "--resume", "--no-plot"])
    assert res.exit_code == 0, res.output
    with (out / "results.csv").open(newline="") as fh:
        assert [int(r["run"]) for r in csv.DictReader(fh)] == list(range(100))
    assert f"{kept} runs reused from the journal, {100 - kept} run now" in res.stdout


@pytest.fixture(autouse=True)
def _no_stray_runs_folder() -> Iterator[None]:
    before = (Path.cwd() / "runs" / "sweeps").exists()
    yield
    assert (Path.cwd() / "runs" / "sweeps").exists() == before
