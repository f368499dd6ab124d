"""report.html in a real headless Chromium: what a student sees, hovers, clicks and drags.

Driven by Playwright for Python with Debian's /usr/bin/chromium (no
``playwright install``: the browser is the system's). Skipped, with the
reason, where either is missing. Screenshots are kept under the pytest
temporary folder (``report-screenshots*``) as artifacts to look at.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app

from .paths import ROOT

CHROMIUM = os.environ.get("CAPSIM_CHROMIUM", "/usr/bin/chromium")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)")

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
FIXTURE = Path(__file__).parent / "fixtures" / "explore-seed-ap.json"
runner = CliRunner()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("seed") / "run"
    res = runner.invoke(app, ["run", "--out", str(d), "--no-plot"])
    assert res.exit_code == 0, res.output
    return d


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return tmp_path_factory.mktemp("report-screenshots")


class Page:
    """A page plus everything it logged and fetched, for asserting afterwards."""

    def __init__(self, browser, path: Path, fragment: str = "") -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"{m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.resolve().as_uri() + fragment
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-ready=true]", state="attached")

    def text(self, selector: str) -> str:
        return self.page.locator(selector).inner_text().strip()

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def seed_page(browser, seed_dir):
    pg = Page(browser, seed_dir / "report.html")
    yield pg
    pg.close()


def test_opens_from_file_with_no_console_errors_and_no_network(seed_page):
    pg = seed_page
    pg.page.locator("#lang").select_option("zh")  # re-render everything once more
    pg.page.locator("#show-messages").uncheck()
    assert pg.errors == []
    assert pg.requests == [pg.url]  # the page itself, nothing else
    assert pg.page.locator(".panel").count() == 2


def test_hovering_bobs_stale_read_tells_the_times_value_and_why(seed_page):
    pg = seed_page
    pg.page.hover('.panel[data-policy="ap"] .op[data-op="2"]')
    tip = pg.page.locator("#tooltip")
    assert tip.is_visible()
    text = tip.inner_text()
    assert "bob → G2: read x → v0 (stale)" in text
    assert "Invoked at 3 s" in text and "Answered at 3 s" in text
    assert "Value: v0 — The initial value" in text
    assert "This read returned a value older than one already acknowledged." in text
    # the replica band says who wrote what it holds
    pg.page.hover('.panel[data-policy="ap"] .band[data-node="G1"][data-i="1"]',
                  position={"x": 40, "y": 4})  # clear of the message arrows
    text = tip.inner_text()
    assert "G1 holds v1 from 2 s to 10 s" in text
    assert "Written by alice at 2 s" in text
    assert pg.errors == []


def test_jump_to_first_violation_highlights_the_minimal_set(seed_page):
    pg = seed_page
    pg.page.click("#jump")
    ap = pg.page.locator('.panel[data-policy="ap"]')
    hl = ap.locator(".op.hl")
    assert sorted(hl.nth(i).get_attribute("data-op") for i in range(hl.count())) == ["0", "2"]
    assert pg.page.locator('.panel[data-policy="cp"] .op.hl').count() == 0
    assert ap.locator("svg.lanes").get_attribute("class") == "lanes dim"
    assert pg.text("#explanation") == ("bob read v0 from G2 at t=3.00 s, but alice's write of v1 "
                                       "to G1 had already been acknowledged at t=2.00 s.")
    # the acknowledged write -> the read that missed it, drawn as one arrow
    assert ap.locator(".overlay path.relation").count() == 1
    assert "acknowledged write → read that missed it" in ap.locator(".overlay").text_content()
    assert pg.text("#time-label") == "At t = 3 s"
    items = pg.page.locator("#involved li")
    assert [items.nth(i).inner_text() for i in range(items.count())] == [
        "alice → G1: write x=v1 (2 s – 2 s)", "bob → G2: read x → v0 (stale) (3 s – 3 s)"]
    assert pg.errors == []


def test_scrubber_shows_each_replica_fault_and_message_at_an_instant(seed_page):
    pg = seed_page
    pg.page.locator("#time").fill("4")
    ap = '.panel[data-policy="ap"] .state'
    cp = '.panel[data-policy="cp"] .state'
    assert pg.text(f'{ap} tr[data-node="G1"] td.value') == "v1"
    assert pg.text(f'{ap} tr[data-node="G2"] td.value') == "v0"
    assert pg.text(f'{cp} tr[data-node="G1"] td.value') == "v0"  # cp refused the write
    assert pg.text(f"{ap} .faults-now") == "Faults in force: G1 | G2 partitioned"
    assert "G1 → G2 sync (4 s → 4.05 s)" in pg.text(f"{ap} .in-flight")
    # the same instant in both panels: the scrubber is shared
    assert pg.text(f"{ap} h3") == "ap · At t = 4 s" and pg.text(f"{cp} h3") == "cp · At t = 4 s"
    # keyboard: → to the next event (the sync messages land at 4.05 s), ← back
    pg.page.keyboard.press("ArrowRight")
    assert pg.text("#time-label") == "At t = 4.05 s"
    pg.page.keyboard.press("ArrowLeft")
    assert pg.text("#time-label") == "At t = 4 s"
    # after the heal, G2 catches up
    pg.page.locator("#time").fill("6.05")
    assert pg.text(f'{ap} tr[data-node="G2"] td.value') == "v1"
    assert pg.text(f"{ap} .faults-now") == "Faults in force: none"
    assert pg.errors == []


def test_chinese_labels_and_a_screenshot(seed_page, shots):
    pg = seed_page
    pg.page.click("#jump")
    pg.page.locator("#time").fill("4")
    pg.page.locator("#lang").select_option("zh")
    assert pg.text("#jump") == "跳到第一个违例"
    assert pg.text("#checks h2") == "检查结果"
    assert "过期读" in pg.text("#legend")
    assert "G1 | G2 网络分区" in pg.text('.panel[data-policy="ap"] .faults-now')
    assert pg.text('.panel[data-policy="ap"] .state h3') == "ap · 时刻 t = 4 s"
    assert pg.page.locator("html").get_attribute("lang") == "zh-CN"
    assert pg.page.evaluate("location.hash") == "#lang=zh"
    assert pg.text("#checks tr:nth-child(2) th") == "操作数"
    # the selection survives the language switch
    assert pg.page.locator('.panel[data-policy="ap"] .op.hl').count() == 2
    pg.page.screenshot(path=str(shots / "seed-zh.png"), full_page=True)
    pg.page.locator("#lang").select_option("en")
    pg.page.screenshot(path=str(shots / "seed-en.png"), full_page=True)
    assert (shots / "seed-zh.png").stat().st_size > 20_000
    assert pg.errors == []


def test_messages_toggle(seed_page, seed_dir):
    pg = seed_page
    n = len((seed_dir / "ap" / "messages.jsonl").read_text(encoding="utf-8").splitlines())
    ap = pg.page.locator('.panel[data-policy="ap"]')
    assert pg.page.locator("#show-messages").is_checked()
    assert ap.locator("line.msg").count() == n
    pg.page.locator("#show-messages").uncheck()
    assert ap.locator("line.msg").count() == 0
    pg.page.locator("#show-messages").check()
    pg.page.locator("#time").fill("2.01")
    assert ap.locator("line.msg.flying").count() == 2  # replicate + G1's sync (G2 has nothing new)


@pytest.fixture(scope="module")
def explore_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("explore") / "cx"
    res = runner.invoke(app, ["run", "-p", "ap", "--out", str(d), "--no-plot", "--no-html"])
    assert res.exit_code == 0, res.output
    shutil.copy(FIXTURE, d / "explore.json")
    res = runner.invoke(app, ["plot", str(d)])
    assert res.exit_code == 0, res.output
    return d


def test_explore_steps_branches_and_shares_a_link(browser, explore_dir, shots):
    pg = Page(browser, explore_dir / "report.html")
    p = pg.page
    steps = p.locator("#steps li")
    assert steps.count() == 5
    assert p.locator("#steps li.current").inner_text() == "bob: read x from G2"
    assert pg.text("#state-view tr[data-node='G2'] td.value") == "v0"
    assert "read x: ok v0" in pg.text("#state-view .clients")
    # click a step: the state after it
    p.click("#steps li[data-step='2']")
    assert pg.text("#state-title") == "State after step 2: alice: write x=v1 to G1"
    assert pg.text("#state-view tr[data-node='G1'] td.value") == "v1"
    assert "G1 → G2 replicate: x=v1 (version 1@G1)" in pg.text("#state-view .in-flight")
    enabled = p.locator("#enabled li")
    assert [enabled.nth(i).inner_text() for i in range(enabled.count())] == [
        "drop replicate G1 → G2 (the link is cut) (the counterexample's next step)",
        "nemesis: heal G1 | G2",
        "bob: read x from G2 (not exported: the search stopped here)"]
    assert p.locator("#enabled button[disabled]").count() == 1
    # branch: heal instead of dropping the message, then deliver it
    p.click("#enabled button:has-text('nemesis: heal G1 | G2')")
    p.click("#enabled button:has-text('deliver replicate G1 → G2')")
    assert pg.text("#state-view tr[data-node='G2'] td.value") == "v1"
    assert p.locator("#steps li.branch").count() == 2
    assert p.evaluate("location.hash") == "#path=0.0.1.0&at=4"
    p.screenshot(path=str(shots / "explore-branch.png"), full_page=True)
    # a teacher's link opens the same state
    link = p.evaluate("location.href")
    other = browser.new_page()
    other.goto(link)
    other.wait_for_selector("body[data-ready=true]", state="attached")
    assert other.locator("#state-title").inner_text() == (
        "State after step 4: deliver replicate G1 → G2")
    assert other.locator("#state-view tr[data-node='G2'] td.value").inner_text() == "v1"
    other.close()
    # and back to the counterexample
    p.click("#back")
    assert p.locator("#steps li.branch").count() == 0
    assert pg.text("#state-view tr[data-node='G2'] td.value") == "v0"
    assert pg.errors == []
    assert pg.requests == [pg.url]
    pg.close()


def test_explore_link_in_chinese(browser, explore_dir):
    pg = Page(browser, explore_dir / "report.html", "#lang=zh&path=0.0&at=2")
    assert pg.text("#explore h2") == "搜索到的反例: ap · linearizable"
    assert pg.text("#state-title").startswith("第 2 步之后的状态")
    assert pg.text("#explore h3:has-text('这里还可能发生什么')") == "这里还可能发生什么"
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert pg.page.locator("#enabled li").count() == len(data["states"]["s2"]["enabled"])
    assert pg.errors == []
    pg.close()


def test_jupyter_repr_renders_inside_its_iframe(browser, tmp_path):
    from capsim.report_html import Report
    from capsim.scenario import seed_scenario
    from capsim.sim import simulate

    shown = Report(simulate(seed_scenario(), policy="ap"), lang="zh")._repr_html_()
    nb = tmp_path / "notebook-cell.html"
    nb.write_text(f"<!DOCTYPE html><meta charset=utf-8><body>{shown}</body>", encoding="utf-8")
    pg = Page.__new__(Page)
    pg.page = browser.new_page()
    errors: list[str] = []
    pg.page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.page.on("pageerror", lambda e: errors.append(str(e)))
    pg.page.goto(nb.resolve().as_uri())
    frame = pg.page.frame_locator("iframe")
    frame.locator("body[data-ready=true]").wait_for(state="attached")
    assert frame.locator("#jump").inner_text() == "跳到第一个违例"
    frame.locator("#jump").click()
    assert frame.locator('.op.hl').count() == 2
    frame.locator("#lang").select_option("en")
    assert frame.locator("#jump").inner_text() == "Jump to first violation"
    assert errors == []
    pg.page.close()


def test_a_long_run_zooms_to_its_first_violation(browser, tmp_path):
    from capsim.report_html import write_report
    from capsim.scenario import parse_scenario
    from capsim.sim import simulate

    sc = parse_scenario({
        "name": "long", "seed": 5, "duration": 60.0, "nodes": ["G1", "G2", "G3"],
        "initial": {"x": "v0"}, "policy": "ap", "timeout": 1.0,
        "network": {"latency": {"dist": "uniform", "low": 0.01, "high": 0.05}},
        "nemesis": [{"at": 20.0, "partition": [["G1"], ["G2", "G3"]]}, {"at": 30.0, "heal": True}],
        "clients": [], "workload": {"rate": 5, "reads": 0.6, "keys": 1, "clients": 4},
    }, source="long.yaml")
    res = simulate(sc)
    assert res.checks["linearizable"]["linearizable"] is False
    pg = Page(browser, write_report([res], tmp_path))
    view = pg.page.evaluate("capsimReport.state.view")
    assert view[0] == 0 and view[1] == pytest.approx(res.scenario.duration, rel=0.1)
    pg.page.click("#jump")
    v0, v1 = pg.page.evaluate("capsimReport.state.view")
    assert v1 - v0 < 0.25 * (view[1] - view[0])
    hl = pg.page.locator(".op.hl")
    assert hl.count() == len(res.checks["linearizable"]["ops"])
    for i in range(hl.count()):  # every highlighted op is in view and wide enough to hover
        box = hl.nth(i).bounding_box()
        assert box is not None and box["width"] >= 3
        hl.nth(i).hover()
        assert pg.page.locator("#tooltip").is_visible()
    pg.page.click("#zoom-all")
    assert pg.page.evaluate("capsimReport.state.view") == view
    assert pg.errors == []
    pg.close()


def test_a_run_without_violation_says_so(browser, tmp_path):
    res = runner.invoke(app, ["run", "-p", "cp", "--out", str(tmp_path / "cp"), "--no-plot"])
    assert res.exit_code == 0, res.output
    pg = Page(browser, tmp_path / "cp" / "report.html")
    pg.page.click("#jump")
    assert pg.text("#detail") == "No linearizability violation in this run."
    assert pg.page.locator(".op.hl").count() == 0
    # clicking an operation shows what happened to it, in words
    pg.page.click('.op[data-op="0"]')
    detail = pg.text("#detail")
    assert "alice → G1: write x=v1 ✗ refused" in detail
    assert "Error: G1 could not reach a majority: 1 of 2 replicas answered, 2 needed" in detail
    assert pg.errors == []
    pg.close()


def test_the_real_explore_counterexample_steps_and_branches(browser, tmp_path, shots):
    """The seed story's ap counterexample, as `capsim explore` writes it, in the browser."""
    out = tmp_path / "explored"
    res = runner.invoke(app, ["explore", str(ROOT / "scenarios" / "partition.yaml"),
                              "--policy", "ap", "--out", str(out)])
    assert res.exit_code == 1, res.output  # 1: a counterexample was found
    page = next(out.rglob("report.html"))
    assert (page.parent / "explore.json").is_file()
    pg = Page(browser, page)
    p = pg.page
    steps = p.locator("#steps li")
    texts = [steps.nth(i).inner_text() for i in range(steps.count())]
    assert len(texts) == 4, texts  # the start, then the counterexample's three steps
    assert "bob" in texts[-1] and "alice" in texts[2]
    assert pg.text("#state-view tr[data-node='G2'] td.value") == "v0"  # after the stale read
    p.click("#steps li[data-step='2']")  # after alice's write, before bob's read
    assert pg.text("#state-view tr[data-node='G1'] td.value") == "v1"
    options = p.locator("#enabled li")
    labels = [options.nth(i).inner_text() for i in range(options.count())]
    assert any("next step" in x for x in labels), labels
    branchable = p.locator("#enabled li:not(:has-text('next step')) button:not([disabled])")
    assert branchable.count() >= 1, labels
    branchable.first.click()
    assert p.locator("#steps li.branch").count() == 1
    assert p.evaluate("location.hash").startswith("#path=")
    p.screenshot(path=str(shots / "explore-real.png"), full_page=True)
    assert pg.errors == []
    assert pg.requests == [pg.url]
    pg.close()


def test_a_run_with_more_messages_than_the_page_holds_says_so(browser, tmp_path, monkeypatch):
    # A 100k-op run sends millions of messages; the page holds the first
    # REPORT_MESSAGES (here 5) and says where the rest are.
    import capsim.report_html.data as data
    from capsim.report_html import write_report
    from capsim.scenario import seed_scenario
    from capsim.sim import simulate

    monkeypatch.setattr(data, "REPORT_MESSAGES", 5)
    res = simulate(seed_scenario(), policy="ap", seed=0)
    total = len(res.messages)
    assert total > 5
    pg = Page(browser, write_report([res], tmp_path))
    ap = pg.page.locator(".panel").first
    assert ap.locator("line.msg").count() == 5
    until = res.messages[4].sent
    assert pg.text("#messages-cut") == (
        f"ap: the first 5 of {total} messages (sent up to t = {until:g} s); "
        "every message is in messages.jsonl")
    pg.page.locator("#lang").select_option("zh")
    assert "全部消息见 messages.jsonl" in pg.text("#messages-cut")
    assert pg.errors == []
    pg.close()
    # and a run that fits shows no note
    pg = Page(browser, write_report([simulate(seed_scenario(), policy="cp", seed=0)],
                                    tmp_path / "cp"))
    assert pg.page.locator("#messages-cut").inner_text() == ""
    assert not pg.page.locator("#messages-cut").is_visible()
    pg.close()
