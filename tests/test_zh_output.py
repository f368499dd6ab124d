"""``--lang zh`` / ``CAPSIM_LANG=zh`` as a student meets it: no English sentence left.

The output is scanned against the English side of the catalogue: any
stretch of a msgid's own words (the text between its ``{fields}``) that is
long enough to be a phrase must not appear, and no run of three English
words may appear at all (names such as alice, G1, v0, cp stand alone).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app
from capsim.history import History

from .paths import ROOT, SCENARIOS

runner = CliRunner()
PO = ROOT / "capsim" / "locale" / "zh_CN" / "LC_MESSAGES" / "capsim.po"
ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ;:'()]+[A-Za-z]{2,}){2,}")


def _english_phrases() -> list[str]:
    """The catalogue's English words, cut at the fields, kept when they are a phrase."""
    ids = re.findall(r'^msgid "(.+)"$', PO.read_text(encoding="utf-8"), re.M)
    phrases = set()
    for msgid in ids:
        for chunk in re.split(r"\{\w+\}", msgid.replace('\\"', '"')):
            chunk = chunk.strip(" .,;:()")
            if len(chunk) >= 8 and " " in chunk and re.search("[a-z]{3}", chunk):
                phrases.add(chunk)
    return sorted(phrases)


PHRASES = _english_phrases()


def english_left(text: str) -> list[str]:
    """Every English phrase or run of English words in ``text``."""
    found = [p for p in PHRASES if p in text]
    found += ENGLISH_RUN.findall(text)
    return found


def _env(**extra: str) -> dict[str, str]:
    return {"COLUMNS": "200", "CAPSIM_LANG": "", "LC_ALL": "", "LC_MESSAGES": "",
            "LANG": "C.UTF-8", **extra}


def test_the_scan_catches_english() -> None:
    assert len(PHRASES) > 60
    assert english_left("cp: G1 could not reach a majority") != []
    assert english_left("t=2→2.8 alice@G1 写 x=v1：失败（G1 无法联系到多数派）") == []


@pytest.mark.parametrize("scenario", sorted(p.name for p in SCENARIOS.glob("*.yaml")))
def test_run_in_chinese_prints_no_english_sentence(scenario: str) -> None:
    res = runner.invoke(app, ["run", str(SCENARIOS / scenario), "--lang", "zh", "--no-write"],
                        env=_env())
    assert res.exit_code == 0, res.output
    assert english_left(res.output) == []
    assert "策略" in res.output and "可用性" in res.output


def test_the_seed_story_in_chinese_says_what_happened() -> None:
    res = runner.invoke(app, ["run", "--lang", "zh", "--no-write"], env=_env())
    out = res.output
    assert "G1 和 G2 都存有 v0。链路断开。" in out
    assert ("t=2→2.8 alice@G1 写 x=v1：失败（G1 无法联系到多数派：2 个副本中只有 1 个应答，"
            "需要 2 个）") in out
    assert "t=3→3 bob@G2 读 x：成功，读到 v0" in out
    assert "ap: bob 在 t=3.00 s 从 G2 读到 v0，但 alice 的写入（v1，写到 G1）早在" in out
    assert "该历史满足线性一致性" in out
    assert english_left(out) == []


def test_capsim_lang_and_the_locale_switch_the_run(tmp_path: Path) -> None:
    for env in (_env(CAPSIM_LANG="zh"), _env(LANG="zh_CN.UTF-8")):
        res = runner.invoke(app, ["run", "--no-write"], env=env)
        assert res.exit_code == 0
        assert "过期读" in res.output and english_left(res.output) == []
    res = runner.invoke(app, ["run", "--no-write", "--lang", "en"], env=_env(CAPSIM_LANG="zh"))
    assert "stale reads" in res.output


def test_run_writes_english_files_whatever_the_reader_speaks(tmp_path: Path) -> None:
    """history.jsonl and result.json do not depend on the language (same seed, same bytes)."""
    outs = []
    for lang in ("en", "zh"):
        out = tmp_path / lang
        res = runner.invoke(app, ["run", "-p", "cp", "--no-plot", "-o", str(out), "--lang", lang],
                            env=_env())
        assert res.exit_code == 0, res.output
        outs.append(out)
    assert (outs[0] / "history.jsonl").read_bytes() == (outs[1] / "history.jsonl").read_bytes()
    assert "已写入" in res.output


def test_check_in_chinese(tmp_path: Path) -> None:
    from capsim import seed_scenario, simulate

    h = simulate(seed_scenario(), policy="ap").history
    path = tmp_path / "h.jsonl"
    path.write_text(h.to_jsonl(), encoding="utf-8")
    res = runner.invoke(app, ["check", str(path), "--initial", "x=v0", "--lang", "zh"],
                        env=_env())
    assert res.exit_code == 1
    assert "线性一致：否" in res.output
    assert "bob 在 t=3.00 s 从 G2 读到 v0" in res.output
    assert "涉及的操作" in res.output
    # the file name is the student's; everything else is Chinese
    assert english_left(res.output.replace(str(path), "")) == []
    assert isinstance(History.from_jsonl(path.read_text(encoding="utf-8")), History)


def test_errors_in_chinese(tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", str(tmp_path / "missing.yaml"), "--lang", "zh"], env=_env())
    assert res.exit_code == 2
    assert f"错误：{tmp_path / 'missing.yaml'}: 没有这个文件" in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nduration: ten\nnodes: [G1]\ncolour: red\n", encoding="utf-8")
    res = runner.invoke(app, ["run", str(bad), "--no-write"], env=_env(CAPSIM_LANG="zh"))
    assert res.exit_code == 2
    assert "处问题" in res.output and "未知字段 'colour'" in res.output
    assert "应为一个数字" in res.output
    assert "Traceback" not in res.output
    # the valid field names are what the student types in YAML: they stay as they are
    fields = res.output.split("这里可用的字段：")[1].split("\n")[0]
    assert english_left(res.output.replace(str(bad), "").replace(fields, "")) == [], res.output


def test_json_stays_english_for_machines() -> None:
    res = runner.invoke(app, ["run", "-p", "ap", "--no-write", "--json", "--lang", "zh"],
                        env=_env())
    data = json.loads(res.output)
    assert data["checks"]["linearizable"]["explanation"].startswith("bob read v0")


def test_pbs_in_chinese() -> None:
    res = runner.invoke(app, ["pbs", "--lang", "zh", "--trials", "20000", "--k", "2"],
                        env=_env())
    assert res.exit_code == 0, res.output
    out = res.output
    assert "部分仲裁" in out and "提交后的 t（毫秒）" in out and "k-过期性" in out
    assert "论文（表 4）" in out
    # model names (LNKD-SSD) and units stay as they are; no English sentence
    assert english_left(out) == [], english_left(out)


def test_sweep_in_chinese(tmp_path: Path) -> None:
    from .sweep_helpers import write_small

    spec = write_small(tmp_path)
    res = runner.invoke(app, ["sweep", str(spec), "--lang", "zh", "--dry-run"], env=_env())
    assert res.exit_code == 0, res.output
    assert "次运行" in res.output and "将写入" in res.output
    res = runner.invoke(app, ["sweep", str(spec), "--lang", "zh", "--workers", "1", "--no-plot",
                              "--out", str(tmp_path / "out")], env=_env())
    assert res.exit_code == 0, res.output
    assert "个种子的平均值" in res.output and "过期读比例" in res.output and "已写入" in res.output
    # the table's header is the sweep's own parameter names; everything else is Chinese
    body = res.output.replace(str(tmp_path), "")
    assert english_left(body) == [], english_left(body)


@pytest.mark.skipif(
    __import__("capsim.plot.style", fromlist=["cjk_font"]).cjk_font() is None,
    reason="no CJK font installed (Debian: apt-get install fonts-wqy-microhei)",
)
def test_the_compare_picture_captions_a_shipped_scenario_in_chinese() -> None:
    from capsim import seed_scenario, simulate
    from capsim.plot import compare

    from .plot_cases import texts

    fig = compare([simulate(seed_scenario(), policy=p) for p in ("cp", "ap")], lang="zh")
    assert "seed-cap-story: G1 和 G2 都存有 v0。链路断开。alice 把 v1 写到 G1；bob 从 G2 读。" \
        in texts(fig)


def test_validate_in_chinese(tmp_path: Path) -> None:
    ok = SCENARIOS / "partition.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nduration: 10\nnodes: [G1]\nclients: [{name: a, node: G9}]\n",
                   encoding="utf-8")
    res = runner.invoke(app, ["validate", str(ok), str(bad), "--lang", "zh"], env=_env())
    assert res.exit_code == 2
    assert f"{ok}：没有问题（seed-cap-story：2 个节点，3 个预定操作）" in res.output
    assert "错误：" in res.output and "未知节点 'G9'" in res.output


def test_pbs_and_sweep_pictures_say_their_labels_in_chinese(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from capsim.i18n import localize_figure
    from capsim.pbs import simulate as pbs_simulate
    from capsim.pbs.plot import plot_t_visibility
    from capsim.sweep.plot import plot_sweep

    from .plot_cases import texts

    fig = Figure()
    top, bottom = fig.subplots(2, 1)
    res = pbs_simulate(3, 1, 1, "LNKD-SSD", trials=2000, seed=1)
    plot_t_visibility(res, t_max=5, ax=top)
    plot_t_visibility(res, t_max=5, stale=True, ax=bottom)
    rows = [{"partition_length": x, "policy": p, "availability.overall": a}
            for x, p, a in [(1, "cp", 0.9), (1, "cp", 0.8), (4, "cp", 0.5), (4, "cp", 0.6),
                            (1, "ap", 1.0), (1, "ap", 1.0), (4, "ap", 1.0), (4, "ap", 1.0)]]
    plot_sweep(rows, "partition_length", "availability.overall", "policy",
               ax=fig.subplots(1, 1))
    localize_figure(fig, "zh")
    words = texts(fig)
    for label in ("P（读到最新值）", "P（过期读）", "t：写入提交之后的时间（毫秒）", "目标 0.999",
                  "分区时长 (秒)", "可用性（应答请求的比例，%）", "各种子的均值 ± 95% 置信区间",
                  "策略"):
        assert label in words, label
    assert english_left(" | ".join(words)) == []


@pytest.mark.skipif(
    __import__("capsim.plot.style", fromlist=["cjk_font"]).cjk_font() is None,
    reason="no CJK font installed (Debian: apt-get install fonts-wqy-microhei)",
)
def test_pbs_plot_in_chinese_is_written(tmp_path: Path) -> None:
    out = tmp_path / "pbs.png"
    res = runner.invoke(app, ["pbs", "--lang", "zh", "--trials", "5000", "--plot", str(out)],
                        env=_env())
    assert res.exit_code == 0, res.output
    assert out.stat().st_size > 10_000 and "图：" in res.output
