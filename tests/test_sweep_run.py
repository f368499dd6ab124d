"""Running sweeps: same rows on every executor, a journal that survives Ctrl-C, resume."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from capsim import simulate
from capsim.errors import CapsimError, OutputExistsError
from capsim.sweep import SweepInterrupted, load_sweep, run_sweep
from tests.sweep_helpers import SMALL, write_small


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small sweep run in-process (1 worker): the rows every other way must match."""
    d = tmp_path_factory.mktemp("ref")
    sweep = load_sweep(write_small(d))
    result = run_sweep(sweep, d / "out", workers=1)
    assert result.ran == 12 and result.reused == 0
    return d / "out"


def rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "results.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_one_row_per_run_with_parameters_seed_and_every_metric(reference: Path) -> None:
    table = rows(reference)
    assert len(table) == 12
    assert list(table[0])[:7] == ["run", "point", "partition_length", "nemesis.1.at", "policy",
                                  "replicate", "seed"]
    assert [r["policy"] for r in table[:6]] == ["cp"] * 3 + ["ap"] * 3
    # a row is what simulate() gives for that scenario, policy and seed
    sweep = load_sweep(write_small(reference.parent))
    run = sweep.runs[7]
    expected = simulate(run.point.scenario, policy=run.policy, seed=run.seed).metrics()
    row = table[7]
    assert row["seed"] == str(run.seed) and row["partition_length"] == "4"
    for k, v in expected.items():
        assert row[k] == ("" if v is None else repr(v) if isinstance(v, float) else str(v)), k
    assert "availability.overall" in row and "stale_reads.rate" in row
    meta = json.loads((reference / "sweep.json").read_text())
    assert meta["runs"] == meta["finished"] == 12
    assert meta["parameters"] == ["partition_length", "nemesis.1.at"]
    assert (reference / meta["plots"][0]).stat().st_size > 1000


def test_parquet_holds_the_same_table(reference: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(reference / "results.parquet").to_pylist()
    csv_rows = rows(reference)
    assert len(table) == len(csv_rows)
    assert table[5]["seed"] == int(csv_rows[5]["seed"])
    assert table[5]["availability.overall"] == float(csv_rows[5]["availability.overall"])


def test_two_local_processes_give_identical_files(reference: Path, tmp_path: Path) -> None:
    sweep = load_sweep(write_small(reference.parent))
    result = run_sweep(sweep, tmp_path / "out", workers=2, plots=False)
    assert result.executor == "2 local worker processes"
    for name in ("results.csv", "runs.jsonl"):
        assert (tmp_path / "out" / name).read_bytes() == (reference / name).read_bytes(), name


def test_interrupted_sweep_keeps_finished_rows_and_resumes(reference: Path,
                                                           tmp_path: Path) -> None:
    sweep = load_sweep(write_small(reference.parent))
    out = tmp_path / "out"
    seen: list[int] = []

    def stop_after_five(done: int, total: int) -> None:
        seen.append(done)
        if done >= 5:
            raise KeyboardInterrupt  # what Ctrl-C raises in the main thread

    with pytest.raises(SweepInterrupted) as info:
        run_sweep(sweep, out, workers=2, plots=False, on_progress=stop_after_five)
    assert 5 <= info.value.done < 12 and info.value.total == 12
    journal = (out / "runs.jsonl").read_text().splitlines()
    assert len(journal) == info.value.done
    assert not (out / "results.csv").exists()  # tables only at the end

    with pytest.raises(OutputExistsError, match="--resume"):
        run_sweep(sweep, out, workers=1)
    # a run killed mid-line leaves half a record: it is skipped, not fatal
    with (out / "runs.jsonl").open("a") as fh:
        fh.write('{"id": "abc", "run"')
    result = run_sweep(sweep, out, workers=2, resume=True, plots=False)
    assert result.reused == info.value.done and result.ran == 12 - info.value.done
    assert (out / "results.csv").read_bytes() == (reference / "results.csv").read_bytes()
    assert len((out / "runs.jsonl").read_text().splitlines()) == 12


def test_resume_reuses_only_runs_that_still_match(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "runs.jsonl").write_bytes((reference / "runs.jsonl").read_bytes())
    # a third point and a changed workload rate: the old runs of point 0 and 1
    # no longer describe these scenarios, so nothing may be reused...
    changed = SMALL.replace("rate: 10", "rate: 12")
    sweep = load_sweep(write_small(tmp_path, changed))
    result = run_sweep(sweep, out, workers=1, resume=True, plots=False)
    assert result.reused == 0 and result.ran == 12
    # ...while an added point reuses every run of the unchanged ones.
    grown = SMALL.replace("[1, 4]", "[1, 4, 6]").replace("[2.0, 5.0]", "[2.0, 5.0, 7.0]")
    out2 = tmp_path / "out2"
    out2.mkdir()
    (out2 / "runs.jsonl").write_bytes((reference / "runs.jsonl").read_bytes())
    result = run_sweep(load_sweep(write_small(tmp_path, grown)), out2, workers=1,
                       resume=True, plots=False)
    assert result.reused == 12 and result.ran == 6


def test_output_folder_is_not_overwritten_without_force(reference: Path, tmp_path: Path) -> None:
    sweep = load_sweep(write_small(reference.parent))
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match="not empty"):
        run_sweep(sweep, out, workers=1)
    with pytest.raises(CapsimError, match="pass one of them"):
        run_sweep(sweep, out, workers=1, force=True, resume=True)
    result = run_sweep(sweep, out, workers=1, force=True, plots=False)
    assert result.ran == 12
    assert (out / "notes.txt").read_text() == "mine"  # --force removes only capsim's files
    with pytest.raises(OutputExistsError, match="already holds a sweep"):
        run_sweep(sweep, out, workers=1)


def test_bad_worker_options() -> None:
    from capsim.sweep.run import make_executor

    with pytest.raises(CapsimError, match="at least 1"):
        make_executor(workers=0)
    with pytest.raises(CapsimError, match="leave --workers out"):
        make_executor(workers=2, scheduler="tcp://127.0.0.1:1")
