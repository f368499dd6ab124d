"""How big is report.html for a 10,000-op run, and how soon is it interactive? Not a test.

Simulates a three-replica ``ap`` run with partitions, a crash and a generated
workload of about 10,000 operations, writes its report.html, and opens it in
headless Chromium (Debian's /usr/bin/chromium through Playwright) from
``file://``. "Interactive" is the moment the page's script has drawn every
lane and wired its handlers (``capsimReport.ready``, ms since navigation
start); the wall time from ``goto`` until ``body[data-ready]`` is printed too.
Baselines measured in the same run: an empty page, and the seed story's report.

Run: ``python benchmarks/bench_report.py [--ops 10000] [--repeat 5]``.
Targets (issue 15): report < 5 MB, interactive < 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from capsim.report_html import write_report
from capsim.scenario import parse_scenario, seed_scenario
from capsim.sim import simulate

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def big_scenario(ops: int) -> object:
    duration = 100.0
    return parse_scenario({
        "name": "bench-report", "seed": 11, "duration": duration + 5,
        "nodes": ["G1", "G2", "G3"], "initial": {"x": "v0"}, "policy": "ap", "timeout": 1.0,
        "network": {"latency": {"dist": "uniform", "low": 0.01, "high": 0.05}},
        "nemesis": [{"at": 10.0, "partition": [["G1"], ["G2", "G3"]]}, {"at": 30.0, "heal": True},
                    {"at": 50.0, "crash": "G3"}, {"at": 60.0, "recover": "G3"},
                    {"at": 70.0, "partition": [["G1", "G2"], ["G3"]]},
                    {"at": 85.0, "heal": True}],
        "clients": [],
        "workload": {"rate": ops / duration, "reads": 0.7, "keys": 4, "clients": 8,
                     "end": duration},
    }, source="bench_report.py")


def time_to_interactive(browser: object, path: Path, repeat: int) -> tuple[float, float]:
    """Median (script-ready ms since navigation start, wall ms of goto+ready)."""
    ready, wall = [], []
    for _ in range(repeat):
        page = browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
        errors: list[str] = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        t0 = time.perf_counter()
        page.goto(path.resolve().as_uri())
        page.wait_for_selector("body[data-ready=true]", state="attached")
        wall.append((time.perf_counter() - t0) * 1000)
        ready.append(page.evaluate("window.capsimReport ? window.capsimReport.ready : "
                                   "performance.now()"))
        if errors:
            raise SystemExit(f"page errors in {path}: {errors}")
        page.close()
    return statistics.median(ready), statistics.median(wall)


def messages_on_ms(browser: object, path: Path) -> float:
    """How long drawing every message arrow takes when the student ticks the box."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("body[data-ready=true]", state="attached")
    ms = page.evaluate("""() => { const t0 = performance.now();
        document.getElementById('show-messages').click();
        return performance.now() - t0; }""")
    page.close()
    return float(ms)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        big = simulate(big_scenario(args.ops))
        sim_s = time.perf_counter() - t0
        n_ops = len(big.history.operations())
        t0 = time.perf_counter()
        big_page = write_report([big], d / "big" / "report.html")
        write_s = time.perf_counter() - t0
        seed_page = write_report([simulate(seed_scenario(), policy=p) for p in ("cp", "ap")],
                                 d / "seed" / "report.html")
        blank = d / "blank.html"
        blank.write_text("<!DOCTYPE html><title>b</title><body data-ready=true>",
                         encoding="utf-8")
        size_mb = big_page.stat().st_size / 1e6
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            blank_ready, blank_wall = time_to_interactive(browser, blank, args.repeat)
            seed_ready, seed_wall = time_to_interactive(browser, seed_page, args.repeat)
            big_ready, big_wall = time_to_interactive(browser, big_page, args.repeat)
            msgs_ms = messages_on_ms(browser, big_page)
            browser.close()
    print(f"run: {n_ops} operations, {len(big.messages)} messages, {len(big.faults)} faults, "
          f"{len(big.trace)} replica-value changes (simulated in {sim_s:.1f} s)")
    print(f"report.html: {size_mb:.2f} MB (target < 5 MB), written in {write_s:.2f} s")
    print(f"time to interactive, median of {args.repeat} (ms: script ready / goto→ready wall):")
    print(f"  empty page        {blank_ready:7.0f} / {blank_wall:7.0f}")
    print(f"  seed story report {seed_ready:7.0f} / {seed_wall:7.0f}")
    print(f"  {n_ops}-op report  {big_ready:7.0f} / {big_wall:7.0f}   (target < 2000)")
    print(f"  ratio big ÷ seed report (wall): {big_wall / seed_wall:.1f}×")
    print(f"drawing all {len(big.messages)} message arrows on demand: {msgs_ms:.0f} ms")


if __name__ == "__main__":
    main()
