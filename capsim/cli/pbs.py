"""``capsim pbs``: how stale are partial quorums? The PBS paper's WARS Monte Carlo."""

from __future__ import annotations

import json
import math
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from capsim.cli.common import die, user_errors
from capsim.cli.plotopts import LANG_HELP, check_lang
from capsim.cli.root import app


class _Method(str, Enum):
    quantile = "quantile"
    paper = "paper"


def parse_nrw(text: str) -> tuple[int, int, int]:
    """``"3,1,1"`` -> ``(3, 1, 1)``; ValueError in words for anything else."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3 or not all(p.lstrip("+").isdigit() for p in parts):
        raise ValueError(f"--nrw: expected three whole numbers N,R,W such as 3,1,1; got {text!r}")
    n, r, w = (int(p) for p in parts)
    from capsim.pbs.montecarlo import check_nrw

    try:
        check_nrw(n, r, w)
    except ValueError as exc:
        raise ValueError(f"--nrw {text}: {exc}") from None
    return n, r, w


def _nice_ceil(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is >= x."""
    if x <= 0:
        return 1.0
    p = 10.0 ** math.floor(math.log10(x))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * p >= x * (1 - 1e-12):
            return m * p
    return 10.0 * p


def table_times(t_max: float) -> list[float]:
    """0, then 1-2-5 steps from about t_max/200 up to t_max.

    Even rows on a log scale suit heavy-tailed curves, which rise fast and
    then creep towards 1.
    """
    times = [0.0]
    p = 10.0 ** math.floor(math.log10(t_max / 200))
    while p <= t_max:
        for m in (1.0, 2.0, 5.0):
            v = round(m * p, 12)
            if t_max / 200 <= v < t_max * (1 - 1e-9):
                times.append(v)
        p *= 10
    times.append(t_max)
    return times


def _fmt_ms(x: float) -> str:
    """Milliseconds to four significant digits, without trailing zeros."""
    if x == 0:
        return "0"
    if x >= 10_000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _fmt_pct(p: float) -> str:
    """0.999 -> '99.9%'."""
    return f"{p * 100:.6g}%"


_HELP = """
Probabilistically Bounded Staleness: run the WARS Monte Carlo of Bailis et al.
(PVLDB 2012, section 5) for a Dynamo-style quorum system of N replicas, where a
write waits for W acks and a read for R answers.

Each trial draws the four one-way delays W (write to replica), A (ack), R (read
request) and S (read response) for every replica from the chosen production
latency model, commits the write at the W-th fastest ack, sends a read t ms
later, and calls it consistent if one of the R replicas that answer first
already had the write. The output is the t-visibility curve P(consistent read
at t), the t needed for --target, and the 99.9th-percentile read and write
latencies.

Two ways to get the t for the target:

[bold]quantile[/bold] (default): each trial has a staleness window, the smallest t
at which its read would be consistent. The answer is the --target quantile of
the windows over --trials trials: one sample, no grid, no first-crossing bias.

[bold]paper[/bold]: the authors' procedure. Sweep t over a grid (0.01 ms steps for
LNKD-SSD, 0.1 ms for LNKD-DISK and WAN, 1 ms from 1 ms for YMMR), draw
--paper-trials fresh trials at each t, report the first t whose estimate
reaches the target. Noise lets an early t cross by luck, so this reads a few
percent low; it is what the paper's Table 4 printed.

With R + W > N every read quorum overlaps every write quorum and t is 0.
"""


@app.command(help=_HELP)
def pbs(
    nrw: Annotated[
        str, typer.Option("--nrw", help="N,R,W: replicas, read quorum, write quorum.")
    ] = "3,1,1",
    model: Annotated[
        str,
        typer.Option(
            "--model", "-m", help="Latency model: LNKD-SSD, LNKD-DISK, YMMR or WAN (paper Table 3)."
        ),
    ] = "LNKD-SSD",
    trials: Annotated[
        int, typer.Option("--trials", min=1, help="Monte Carlo trials (write + read pairs).")
    ] = 1_000_000,
    t_max: Annotated[
        float | None,
        typer.Option(
            "--t-max",
            help="Right end (ms) of the table and plot (default: the paper's figure range, "
            "stretched to show the target's t).",
        ),
    ] = None,
    target: Annotated[
        float,
        typer.Option("--target", help="Probability of a consistent read, in (0, 1]."),
    ] = 0.999,
    method: Annotated[
        _Method, typer.Option("--method", help="How to find the t for --target (see above).")
    ] = _Method.quantile,
    paper_trials: Annotated[
        int, typer.Option("--paper-trials", min=1, help="Fresh trials per t for --method paper.")
    ] = 50_000,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed; same seed, same numbers.")
    ] = 0,
    k: Annotated[
        int | None,
        typer.Option(
            "--k",
            min=1,
            help="Also print the closed-form k-staleness: P(a read returns one of the "
            "last K versions) = 1 - (C(N-W,R)/C(N,R))^K.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the results as JSON instead of tables.")
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Save the t-visibility curve to this file (.png, .svg, .pdf)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the --plot file.")] = False,
    lang: Annotated[str | None, typer.Option("--lang", help=LANG_HELP,
                                             callback=check_lang)] = None,
) -> None:
    with user_errors():
        if not 0.0 < target <= 1.0:
            raise die(f"--target {target}: must be a probability in (0, 1], e.g. 0.999")
        if t_max is not None and not t_max > 0:
            raise die(f"--t-max {t_max}: must be a positive number of milliseconds")
        try:
            n, r, w = parse_nrw(nrw)
            from capsim.latency import get_model

            latency = get_model(model)
        except ValueError as exc:
            raise die(str(exc)) from None
        from capsim.pbs.montecarlo import MAX_TRIALS

        if trials > MAX_TRIALS:
            from capsim.i18n import t

            raise die(t("--trials {n}: at most {max} (every trial's result is kept in memory, "
                        "24 bytes each: {n} would need {gib} GiB); use fewer", None,
                        n=f"{trials:,}", max=f"{MAX_TRIALS:,}",
                        gib=f"{trials * 24 / 2**30:,.1f}"))
        if paper_trials > MAX_TRIALS:
            from capsim.i18n import t

            raise die(t("--paper-trials {n}: at most {max} fresh trials per t (more would run "
                        "for hours); use fewer", None, n=f"{paper_trials:,}",
                        max=f"{MAX_TRIALS:,}"))
        if plot is not None:
            _check_plot_target(plot, force)

        from capsim.pbs.montecarlo import (
            FIGURE_T_MAX,
            k_staleness,
            paper_t_visibility,
            simulate,
        )

        result = simulate(n, r, w, latency, trials=trials, seed=seed)
        t_quantile = result.t_visibility(target)
        sweep = None
        if method is _Method.paper:
            sweep = paper_t_visibility(
                n, r, w, latency, target=target, trials_per_t=paper_trials, seed=seed
            )
        t_reported = t_quantile if sweep is None else sweep.t
        if t_max is None:
            span = FIGURE_T_MAX.get(latency.name, 100.0)
            t_max = max(span, _nice_ceil(1.2 * max(t_quantile, t_reported or 0.0)))
        times = table_times(t_max)
        k_value = k_staleness(n, r, w, k) if k is not None else None

        doc: dict[str, Any] = {
            "n": n,
            "r": r,
            "w": w,
            "model": latency.name,
            "trials": trials,
            "seed": seed,
            "strict_quorum": result.strict,
            "target": target,
            "method": method.value,
            "t_visibility_ms": t_reported,
            "t_quantile_ms": t_quantile,
            "p_consistent_at_commit": result.p_consistent(0.0),
            "read_latency_p999_ms": result.read_latency(0.999),
            "write_latency_p999_ms": result.write_latency(0.999),
            "curve": [
                {
                    "t_ms": t,
                    "p_consistent": result.p_consistent(t),
                    "ci95": list(result.interval(t)),
                }
                for t in times
            ],
            "latency_model": latency.to_dict(),
        }
        if sweep is not None:
            doc["paper_sweep"] = {
                "t_ms": sweep.t,
                "estimate": sweep.estimate,
                "trials_per_t": paper_trials,
                "grid_points_tried": sweep.grid_points,
                "trials_drawn": sweep.trials_drawn,
            }
        if k is not None:
            doc["k_staleness"] = {"k": k, "p_within_k_versions": k_value}

        if plot is not None:
            _save_plot(result, plot, t_max=t_max, target=target, t_target=t_reported, lang=lang)

        if as_json:
            typer.echo(json.dumps(doc, indent=2))
            return
        _print_report(doc, times, result, plot, lang)


def _check_plot_target(path: Path, force: bool) -> None:
    """Refuse before any work is done: an unknown format or a file we may not replace."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in {"png", "svg", "pdf"}:
        raise die(f"--plot {path}: use a .png, .svg or .pdf file name")
    from capsim.atomic import file_in_the_way

    blocked = file_in_the_way(path.parent, "--plot") if str(path.parent) not in ("", ".") \
        else None
    if blocked is not None:
        raise die(f"--plot {path}: {blocked}")
    if path.is_dir():
        raise die(f"--plot {path}: is a folder; give a file name such as {path / 'pbs.png'}")
    if path.exists() and not force:
        raise die(f"--plot {path}: the file exists; pass --force to replace it")


def _save_plot(
    result: Any, path: Path, *, t_max: float, target: float, t_target: float | None,
    lang: str | None = "en",
) -> None:
    import contextlib
    import io

    from capsim.atomic import write_bytes
    from capsim.i18n import localize_figure, resolve_lang, t
    from capsim.pbs.plot import t_visibility_figure

    fonts: Any = contextlib.nullcontext(resolve_lang(lang))
    if resolve_lang(lang) == "zh":
        from capsim.plot.style import plot_context

        fonts = plot_context("zh")  # a CJK font (or English, with a warning, without one)
    with fonts as drawn_lang:
        title = t(
            "t-visibility: N={n} R={r} W={w} on {model} ({trials} trials, seed {seed})",
            drawn_lang, n=result.n, r=result.r, w=result.w, model=result.model,
            trials=f"{result.trials:,}", seed=result.seed)
        fig = t_visibility_figure(result, t_max=t_max, target=target, t_target=t_target,
                                  title=title)
        localize_figure(fig, drawn_lang)  # the labels are catalogue sentences
        buf = io.BytesIO()
        fig.savefig(buf, format=path.suffix.lower().lstrip("."), dpi=120, facecolor="white")
    write_bytes(path, buf.getvalue())


def _print_report(doc: dict[str, Any], times: list[float], result: Any, plot: Path | None,
                  lang: str | None = "en") -> None:
    from rich.console import Console
    from rich.table import Table

    from capsim.i18n import t
    from capsim.pbs.paper import P_CONSISTENT_AT_COMMIT, published

    console = Console()
    n, r, w = doc["n"], doc["r"], doc["w"]
    kind = (
        t("strict quorum (R+W > N): every read overlaps the last write", lang)
        if doc["strict_quorum"]
        else t("partial quorum (R+W <= N): reads can be stale", lang)
    )
    target = doc["target"]
    pct = _fmt_pct(target)
    t_rep = doc["t_visibility_ms"]
    table = Table(
        title=t("N={n} R={r} W={w} on {model}: {kind}", lang, n=n, r=r, w=w,
                model=doc["model"], kind=kind),
        caption=t("{trials} trials, seed {seed}", lang, trials=f"{doc['trials']:,}",
                  seed=doc["seed"]),
    )
    table.add_column(t("t after commit (ms)", lang), justify="right")
    table.add_column(t("P(consistent read)", lang), justify="right")
    table.add_column(t("{pct} interval", lang, pct="95%"), justify="right")
    rows = list(times)
    if t_rep is not None and t_rep not in rows:
        rows.append(t_rep)
    for at in sorted(rows):
        lo, hi = result.interval(at)
        mark = at == t_rep
        label = _fmt_ms(at) + (f"  <- {pct}" if mark else "")
        table.add_row(
            label,
            f"{result.p_consistent(at):.4%}",
            f"{lo:.4%} .. {hi:.4%}",
            style="bold" if mark else None,
        )
    console.print(table)

    if doc["method"] == "paper":
        sweep = doc["paper_sweep"]
        if sweep["t_ms"] is None:
            console.print(t(
                "t for {pct} consistent reads (paper's sweep): not reached on the paper's grid; "
                "the quantile method gives {quantile} ms", lang, pct=pct,
                quantile=_fmt_ms(doc["t_quantile_ms"])))
        else:
            console.print(t(
                "t for {pct} consistent reads: [bold]{ms} ms[/bold] (paper's sweep: first grid t "
                "where {trials} fresh trials reached it; the quantile method gives {quantile} ms)",
                lang, pct=pct, ms=_fmt_ms(sweep["t_ms"]), trials=f"{sweep['trials_per_t']:,}",
                quantile=_fmt_ms(doc["t_quantile_ms"])))
    else:
        console.print(t(
            "t for {pct} consistent reads: [bold]{ms} ms[/bold] (the {pct} quantile of the "
            "staleness window)", lang, pct=pct, ms=_fmt_ms(doc["t_quantile_ms"])))
    console.print(t(
        "P(consistent) right at commit: {p}    99.9th percentile latency: read {read} ms, "
        "write {write} ms", lang, p=f"{doc['p_consistent_at_commit']:.2%}",
        read=_fmt_ms(doc["read_latency_p999_ms"]), write=_fmt_ms(doc["write_latency_p999_ms"])))
    row = published(doc["model"], n, r, w)
    if row is not None:
        extra = ""
        if (r, w) == (1, 1):
            extra = t(", P(consistent) at commit {p}", lang,
                      p=f"{P_CONSISTENT_AT_COMMIT[doc['model']]:.1%}")
        console.print("[dim]" + t(
            "The paper (Table 4): t for 99.9% {ms} ms (paper's sweep), latency read {read} ms, "
            "write {write} ms{extra}", lang, ms=_fmt_ms(row.t_visibility),
            read=_fmt_ms(row.read_latency), write=_fmt_ms(row.write_latency), extra=extra)
            + "[/dim]")
    if "k_staleness" in doc:
        ks = doc["k_staleness"]
        console.print(t(
            "k-staleness (closed form, no waiting): P(a read returns one of the last {k} "
            "versions) = {p}", lang, k=ks["k"], p=f"{ks['p_within_k_versions']:.4%}"))
    if plot is not None:
        console.print(t("plot: {path}", lang, path=plot))
