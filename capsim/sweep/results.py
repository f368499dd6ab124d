"""Sweep results: one row per run, written as CSV (always) and Parquet (with pyarrow).

A row is ``run, point, <parameters…>, policy, replicate, seed, <metrics…>``,
in run order, so the files are byte-identical whichever executor produced
them. The CSV needs nothing to read (a spreadsheet, pandas, the csv module);
Parquet keeps the types and is what large sweeps want.

Also here: mean ± 95% confidence interval across seeds (Student's t), used by
the summary table and the plots.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capsim.atomic import write_bytes, write_text
from capsim.errors import CapsimError
from capsim.sweep.files import JOURNAL, META, RESULTS_CSV, RESULTS_PARQUET, SWEEP_COPY
from capsim.sweep.stats import mean_ci

if TYPE_CHECKING:
    from capsim.sweep.spec import Sweep

BASE_COLUMNS = ("run", "point")
RUN_COLUMNS = ("policy", "replicate", "seed")


def param_columns(sweep: Sweep) -> list[str]:
    """The varied parameters, without ``policy`` (it has its own fixed place)."""
    return [c for c in sweep.columns if c != "policy"]


def build_rows(
    sweep: Sweep, metrics: Mapping[int, Mapping[str, Any]]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Rows for every run with metrics, in run order; metric columns in order of first use."""
    params = param_columns(sweep)
    metric_cols: dict[str, None] = {}
    rows: list[dict[str, Any]] = []
    for run in sweep.runs:
        m = metrics.get(run.index)
        if m is None:
            continue
        row: dict[str, Any] = {"run": run.index, "point": run.point.index}
        for c in params:
            row[c] = run.point.values[c]
        row.update(policy=run.policy, replicate=run.replicate, seed=run.seed)
        for k, v in m.items():
            metric_cols.setdefault(k, None)
            row[k] = v
        rows.append(row)
    return [*BASE_COLUMNS, *params, *RUN_COLUMNS, *metric_cols], rows


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, dict)):
        return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(v)


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    return buf.getvalue()


def parquet_bytes(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> bytes | None:
    """The table as Parquet, or None when pyarrow is not installed."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    arrays = []
    for c in columns:
        vals = [r.get(c) for r in rows]
        if any(isinstance(v, (list, dict)) for v in vals):
            vals = [None if v is None else _cell(v) for v in vals]
        try:
            arrays.append(pa.array(vals))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # a column mixing kinds (numbers and text): keep it as text
            arrays.append(pa.array([None if v is None else _cell(v) for v in vals]))
    table = pa.Table.from_arrays(arrays, names=list(columns))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def default_plots(sweep: Sweep) -> list[tuple[str, list[str], str | None]]:
    """The plots a sweep draws: its ``plots:``, or, with one varied parameter, the usual two."""
    if sweep.plots:
        return [(p.x, p.ys, p.hue) for p in sweep.plots]
    groups = [g for g in sweep.axes if all(a.column != "policy" for a in g)]
    if len(groups) != 1:
        return []
    hue = "policy" if len(sweep.policies) > 1 else None
    return [(groups[0][0].column, ["availability.overall", "stale_reads.rate"], hue)]


def plot_name(x: str, ys: Sequence[str]) -> str:
    safe = [s.replace("/", "_") for s in (*ys, x)]
    return "-".join(safe[:-1]) + f"-vs-{safe[-1]}.png"


def write_outputs(
    sweep: Sweep, out: Path, metrics: Mapping[int, Mapping[str, Any]], *, plots: bool = True
) -> tuple[list[str], list[dict[str, Any]], list[Path]]:
    """Write the tables, the metadata, the compacted journal and the plots, each atomically."""
    from capsim._version import __version__

    columns, rows = build_rows(sweep, metrics)
    files: list[Path] = []
    write_text(out / RESULTS_CSV, csv_text(columns, rows))
    files.append(out / RESULTS_CSV)
    pq_data = parquet_bytes(columns, rows)
    if pq_data is not None:
        write_bytes(out / RESULTS_PARQUET, pq_data)
        files.append(out / RESULTS_PARQUET)
    if sweep.text:
        write_text(out / SWEEP_COPY, sweep.text)
        files.append(out / SWEEP_COPY)

    drawn: list[str] = []
    if plots and rows:
        from capsim.sweep.plot import save_plot

        params = param_columns(sweep)
        for x, ys, hue in default_plots(sweep):
            name = plot_name(x, ys)
            save_plot(rows, out / name, x=x, ys=ys, hue=hue, params=params,
                      title=sweep.description or sweep.name)
            drawn.append(name)
            files.append(out / name)

    meta = {
        "name": sweep.name,
        "description": sweep.description,
        "source": sweep.source,
        "seed": sweep.seed,
        "seeds": sweep.seeds,
        "runs": len(sweep.runs),
        "points": len(sweep.points),
        "finished": len(rows),
        "parameters": param_columns(sweep),
        "policies": list(sweep.policies),
        "metrics": columns[len(BASE_COLUMNS) + len(param_columns(sweep)) + len(RUN_COLUMNS):],
        "plots": drawn,
        "capsim_version": __version__,
    }
    write_text(out / META, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    files.append(out / META)

    # The journal keeps only this sweep's runs, in run order: --resume after
    # an edit of the sweep file still finds them, stale rows are gone.
    lines = [
        json.dumps({"id": r.run_id, "run": r.index, "metrics": metrics[r.index]},
                   separators=(",", ":")) + "\n"
        for r in sweep.runs if r.index in metrics
    ]
    write_text(out / JOURNAL, "".join(lines))
    return columns, rows, files


# --- reading back ------------------------------------------------------------


def _parse(cell: str) -> Any:
    if cell == "":
        return None
    if cell in ("True", "False"):
        return cell == "True"
    if cell[:1] in "[{":
        try:
            return json.loads(cell)
        except ValueError:
            return cell
    try:
        return int(cell)
    except ValueError:
        pass
    try:
        return float(cell)
    except ValueError:
        return cell


def read_results(folder: str | Path) -> tuple[list[str], list[dict[str, Any]], list[str]]:
    """``(columns, rows, parameter columns)`` of a sweep folder's results.csv."""
    d = Path(folder)
    path = d / "results.csv"
    if not path.is_file():
        hint = (" (the sweep did not finish: run it again with --resume)"
                if (d / "runs.jsonl").is_file() else "")
        raise CapsimError(f"{d}: no results.csv here; is this a folder written by "
                          f"`capsim sweep`?{hint}")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        try:
            columns = next(reader)
        except StopIteration:
            raise CapsimError(f"{path}: empty file") from None
        rows = [dict(zip(columns, (_parse(c) for c in cells), strict=False)) for cells in reader]
    params: list[str] = []
    try:
        meta = json.loads((d / "sweep.json").read_text(encoding="utf-8"))
        params = [str(p) for p in meta.get("parameters", [])]
    except (OSError, ValueError):
        if "point" in columns and "policy" in columns:
            params = columns[columns.index("point") + 1: columns.index("policy")]
    return columns, rows, params


def summarize(
    rows: Sequence[Mapping[str, Any]], by: Sequence[str], metrics: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per distinct ``by`` values (in first-seen order) with mean/ci/n per metric."""
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    keys: dict[tuple[str, ...], tuple[Any, ...]] = {}
    for r in rows:
        vals = tuple(r.get(c) for c in by)
        k = tuple(json.dumps(v, sort_keys=True) for v in vals)
        groups.setdefault(k, []).append(r)
        keys.setdefault(k, vals)
    out = []
    for k, members in groups.items():
        row: dict[str, Any] = dict(zip(by, keys[k], strict=True))
        row["n"] = len(members)
        for m in metrics:
            mean, half, _ = mean_ci(r.get(m) for r in members)
            row[m] = (mean, half)
        out.append(row)
    return out
