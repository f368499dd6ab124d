"""report.html without a browser: the embedded JSON, the page's shape, the CLI.

The page draws only what its embedded document holds, so these tests check
that document against its JSON Schema and against the run: every operation,
fault, replica value and message is there, with the PNGs' colours and words.
"""

from __future__ import annotations

import json
import re
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from capsim.cli import app
from capsim.plot import style
from capsim.report_html import (
    Report,
    check_explore,
    embed_json,
    load_explore,
    report_data,
    report_html,
    write_report,
)
from capsim.report_html.explore import ExploreFileError
from capsim.scenario import parse_scenario, seed_scenario
from capsim.sim import simulate

runner = CliRunner()
FIXTURE = Path(__file__).parent / "fixtures" / "explore-seed-ap.json"
SCHEMA = json.loads(resources.files("capsim.report_html").joinpath("report.schema.json")
                    .read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def seed_runs():
    sc = seed_scenario()
    return [simulate(sc, policy="cp"), simulate(sc, policy="ap")]


def embedded(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="capsim-data">(.*?)</script>', page, re.S)
    assert m, "no embedded data"
    return json.loads(m.group(1))


def busy_scenario():
    """A crash, a one-way cut, a partition, a generated workload: every kind of fault."""
    return parse_scenario({
        "name": "busy", "seed": 3, "duration": 12.0, "nodes": ["G1", "G2", "G3"],
        "initial": {"x": "v0"}, "policy": "ap", "timeout": 1.0,
        "network": {"latency": {"dist": "uniform", "low": 0.01, "high": 0.08}},
        "nemesis": [{"at": 1.0, "partition": [["G1"], ["G2", "G3"]]}, {"at": 3.0, "heal": True},
                    {"at": 4.0, "cut": {"from": ["G2"], "to": ["G3"]}}, {"at": 6.0, "heal": True},
                    {"at": 7.0, "crash": "G3"}, {"at": 9.0, "recover": "G3"}],
        "clients": [{"name": "alice", "node": "G1"}, {"name": "bob", "node": "G2"}],
        "workload": {"rate": 6, "reads": 0.6, "keys": 2, "clients": 3},
    }, source="busy.yaml")


def test_embedded_json_matches_its_schema_and_holds_the_whole_run(seed_runs):
    page = report_html(seed_runs, "en")
    data = embedded(page)
    jsonschema.validate(data, SCHEMA)
    assert [r["policy"] for r in data["runs"]] == ["cp", "ap"]
    for run, res in zip(data["runs"], seed_runs, strict=True):
        ops = res.history.operations()
        assert [o["id"] for o in run["ops"]] == [o.invoke.index for o in ops]
        assert len(run["faults"]) == len(res.faults) == 1
        assert run["faults"][0]["label"] == {"en": "G1 | G2 partitioned", "zh": "G1 | G2 网络分区"}
        assert len(run["messages"]) == len(res.messages)
        assert len(run["trace"]) == len(res.trace)
    ap = data["runs"][1]
    bob_stale = [o for o in ap["ops"] if o["stale"]]
    assert [(o["client"], o["value"], o["start"]) for o in bob_stale] == [("bob", "v0", 3.0)]
    assert ap["violation"]["ops"] == [0, 2]
    assert ap["violation"]["explanation"].startswith("bob read v0 from G2 at t=3.00 s")
    assert data["runs"][0]["violation"] is None  # cp stayed linearizable


def test_colours_and_words_are_the_pngs(seed_runs):
    data = report_data(seed_runs, "zh")
    assert data["palette"]["stale"] == style.STALE
    assert data["palette"]["violation"] == style.VIOLATION
    assert data["palette"]["values"] == list(style.VALUE_COLOURS)
    # v0 is the first value colour in both panels, v1 the second, as in compare.png
    for run in data["runs"]:
        assert run["colours"]["v0"][0] == style.VALUE_COLOURS[0]
    assert data["runs"][1]["colours"]["v1"][0] == style.VALUE_COLOURS[1]
    assert data["words"]["zh"]["legend_stale"] == "过期读"
    assert data["words"]["zh"]["jump"] == "跳到第一个违例"
    assert data["words"]["en"]["jump"] == "Jump to first violation"
    assert data["runs"][0]["checks"]["zh"][0] == ["操作数", "3"]


def test_every_op_fault_and_message_of_a_busy_run_is_embedded(tmp_path):
    res = simulate(busy_scenario())
    assert {f.kind for f in res.faults} == {"partition", "cut", "crash"}
    path = write_report([res], tmp_path)
    assert path == tmp_path / "report.html"
    data = embedded(path.read_text(encoding="utf-8"))
    jsonschema.validate(data, SCHEMA)
    run = data["runs"][0]
    ops = res.history.operations()
    assert len(run["ops"]) == len(ops) > 30
    for got, op in zip(run["ops"], ops, strict=True):
        assert got["start"] == pytest.approx(op.start)
        assert got["type"] == op.type
        assert got["client"] == op.process
    assert [(f["kind"], f["start"], f["end"]) for f in run["faults"]] == [
        (f.kind, f.start, f.end) for f in res.faults]
    assert [m[:3] for m in run["messages"]] == [[m.sent, m.src, m.dst] for m in res.messages]


def test_values_cannot_break_out_of_the_script(tmp_path):
    sc = seed_scenario().model_copy(update={"description": "</script><script>alert(1)</script>"})
    page = report_html([simulate(sc, policy="ap")])
    assert page.count("</script>") == 2  # the data block, the page script, nothing else
    assert embedded(page)["description"] == "</script><script>alert(1)</script>"
    assert embed_json({"a": "<!-- & -->"}) == '{"a":"\\u003c!-- \\u0026 --\\u003e"}'


def test_page_links_nothing_outside_itself(seed_runs):
    page = report_html(seed_runs)
    assert "default-src 'none'" in page
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', page)
    assert "@import" not in page and "url(http" not in page


def test_run_writes_report_html_and_no_html_skips_it(tmp_path):
    res = runner.invoke(app, ["run", "--out", str(tmp_path / "a"), "--no-plot"])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    assert [r["policy"] for r in embedded(page)["runs"]] == ["cp", "ap"]  # one page, stacked
    res = runner.invoke(app, ["run", "--out", str(tmp_path / "b"), "--no-plot", "--no-html"])
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "b" / "report.html").exists()


def test_plot_redraws_the_report_in_chinese_and_keeps_a_foreign_file(tmp_path):
    d = tmp_path / "run"
    assert runner.invoke(app, ["run", "--out", str(d), "--no-plot", "--no-html"]).exit_code == 0
    res = runner.invoke(app, ["plot", str(d), "--lang", "zh"])
    assert res.exit_code == 0, res.output
    assert f"已写入 {d / 'report.html'}" in res.output  # --lang zh speaks Chinese
    assert embedded((d / "report.html").read_text(encoding="utf-8"))["lang"] == "zh"
    # capsim's own page is redrawn without --force; someone else's file is not
    (d / "report.html").write_text("<p>my notes</p>", encoding="utf-8")
    res = runner.invoke(app, ["plot", str(d), "--force", "--out", str(tmp_path / "x")])
    assert res.exit_code == 0
    res = runner.invoke(app, ["plot", str(d), "--out", str(d)])
    assert res.exit_code == 2
    assert "report.html" in res.output and "--force" in res.output
    assert (d / "report.html").read_text(encoding="utf-8") == "<p>my notes</p>"


def test_explore_json_in_the_folder_turns_on_explore_mode(tmp_path):
    d = tmp_path / "cx"
    assert runner.invoke(app, ["run", "-p", "ap", "--out", str(d), "--no-plot"]).exit_code == 0
    shutil.copy(FIXTURE, d / "explore.json")
    res = runner.invoke(app, ["plot", str(d), "--force"])
    assert res.exit_code == 0, res.output
    data = embedded((d / "report.html").read_text(encoding="utf-8"))
    assert data["explore"]["steps"][-1] == {"label": "bob: read x from G2", "state": "s4"}
    assert set(data["explore"]["states"]) == {f"s{i}" for i in range(11)}


@pytest.mark.parametrize(("edit", "field"), [
    (lambda d: d.pop("initial"), "field initial"),
    (lambda d: d["steps"].append({"label": "x", "state": "nope"}), "field steps[4]"),
    (lambda d: d["states"]["s2"]["enabled"][0].update(next="s99"), "states.s2.enabled[0].next"),
    (lambda d: d["states"]["s1"].update(replicas=["G1"]), "states.s1.replicas"),
])
def test_bad_explore_json_is_an_error_naming_the_file_and_field(tmp_path, edit, field):
    d = tmp_path / "cx"
    assert runner.invoke(app, ["run", "-p", "ap", "--out", str(d), "--no-plot"]).exit_code == 0
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    edit(doc)
    (d / "explore.json").write_text(json.dumps(doc), encoding="utf-8")
    res = runner.invoke(app, ["plot", str(d), "--force"])
    assert res.exit_code == 2
    assert f"{d / 'explore.json'}: " in res.output and field in res.output
    assert "Traceback" not in res.output


def test_explore_json_that_is_not_json_names_the_line(tmp_path):
    (tmp_path / "explore.json").write_text('{\n"policy": ap}\n', encoding="utf-8")
    with pytest.raises(ExploreFileError, match=r"explore.json:2: not JSON"):
        load_explore(tmp_path)
    assert load_explore(tmp_path / "nothing-here") is None
    assert check_explore(json.loads(FIXTURE.read_text(encoding="utf-8")))["policy"] == "ap"


def test_run_result_report_shows_itself_in_jupyter(seed_runs):
    rep = Report(seed_runs[1], lang="zh")
    assert isinstance(rep, Report)
    shown = rep._repr_html_()
    assert shown.startswith("<iframe srcdoc=")
    assert 'sandbox="allow-scripts"' in shown
    assert "&lt;script type=&quot;application/json&quot; id=&quot;capsim-data&quot;&gt;" in shown


def test_the_examples_in_docs_report_md_work(tmp_path, monkeypatch):
    doc = (Path(__file__).parent.parent / "docs" / "report.md").read_text(encoding="utf-8")
    example = re.search(r"```json\n(.*?)```", doc, re.S)
    assert example
    assert check_explore(json.loads(example.group(1)))["initial"] == "s0"
    code = re.search(r"## From Python\n\n```python\n(.*?)```", doc, re.S)
    assert code
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(code.group(1), "docs/report.md", "exec"), ns)
    page = (tmp_path / "story" / "report.html").read_text(encoding="utf-8")
    assert embedded(page)["lang"] == "zh"
    assert isinstance(ns["Report"](ns["runs"][1]), Report)


def test_the_same_run_gives_the_same_page_bytes(tmp_path):
    a = write_report([simulate(busy_scenario())], tmp_path / "a")
    b = write_report([simulate(busy_scenario())], tmp_path / "b")
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.slow
def test_live_runs_get_a_report_too(tmp_path):
    partition = Path(__file__).parent.parent / "scenarios" / "partition.yaml"
    out = tmp_path / "live"
    res = runner.invoke(app, ["live", str(partition), "--policy", "ap", "--speed", "2.5",
                              "--no-plot", "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = embedded((out / "report.html").read_text(encoding="utf-8"))
    jsonschema.validate(data, SCHEMA)
    (run,) = data["runs"]
    assert run["policy"] == "ap"
    bob = [o for o in run["ops"] if o["client"] == "bob"]
    assert (bob[0]["value"], bob[0]["stale"]) == ("v0", True)
    assert [f["kind"] for f in run["faults"]] == ["partition"]
