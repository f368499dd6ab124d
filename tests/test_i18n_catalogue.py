"""The message catalogue: every sentence the code says exists in Chinese, with the same fields.

Sentences are found the way translators find them, with Babel's extractor
over ``capsim/`` (keyword ``t``; ``t_`` where a module imports it under that
name). The compiled ``.mo`` must say what the ``.po`` says.
"""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path

import pytest

from .paths import ROOT, SCENARIOS

babel_extract = pytest.importorskip("babel.messages.extract")
pofile = pytest.importorskip("babel.messages.pofile")
mofile = pytest.importorskip("babel.messages.mofile")

PO = ROOT / "capsim" / "locale" / "zh_CN" / "LC_MESSAGES" / "capsim.po"
MO = PO.with_suffix(".mo")
FIELD = re.compile(r"\{(\w+)\}")


def _catalogue():
    with PO.open("rb") as f:
        return pofile.read_po(f, locale="zh_CN")


def _msgids_in_code() -> dict[str, str]:
    """msgid -> where it is said, from every ``t("…")`` (or ``t_("…")``) call in capsim/."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "capsim").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        keyword = "t_" if "import t as t_" in text else "t"
        for lineno, msg, _comments, _context in babel_extract.extract(
            "python", io.BytesIO(text.encode("utf-8")), keywords={keyword: (1,)}
        ):
            msgid = msg if isinstance(msg, str) else msg[0]
            if msgid:
                found.setdefault(msgid, f"{path.relative_to(ROOT)}:{lineno}")
    return found


def test_the_extractor_finds_the_sentences_we_know_are_there() -> None:
    found = _msgids_in_code()
    # one from each layer: policy, checker, report, CLI, errors
    for msgid in (
        "{node} could not reach a majority: {heard} of {n} replicas answered, {need} needed",
        "{saw}, but {write} had already been acknowledged at {time}.{earlier_opt}",
        "t={start}{end} {process}@{node} {what}: {outcome}",
        "wrote {folder}/",
        "{n} problems:",
    ):
        assert msgid in found, msgid
    assert len(found) > 80


def test_every_sentence_in_the_code_has_a_chinese_translation() -> None:
    cat = _catalogue()
    missing = {m: where for m, where in _msgids_in_code().items()
               if cat.get(m) is None or not cat.get(m).string}
    assert not missing, f"add these to {PO.name}: {missing}"


def test_every_registered_word_has_a_chinese_translation() -> None:
    import capsim.plot.style  # noqa: F401  (registers the plot labels)
    from capsim.i18n import word_msgids

    cat = _catalogue()
    missing = sorted({en for en in word_msgids().values()
                      if cat.get(en) is None or not cat.get(en).string})
    assert not missing


def test_fields_match_between_english_and_chinese() -> None:
    bad = []
    for m in _catalogue():
        if not m.id or not m.string:
            continue
        if sorted(set(FIELD.findall(m.id))) != sorted(set(FIELD.findall(m.string))):
            bad.append((m.id, m.string))
    assert not bad


def test_babel_finds_no_error_in_the_catalogue() -> None:
    errors = [(m.id, [str(e) for e in errs]) for m, errs in _catalogue().check()]
    assert not errors


def test_the_mo_file_is_compiled_from_the_current_po() -> None:
    buf = io.BytesIO()
    mofile.write_mo(buf, _catalogue())
    fresh = gettext.GNUTranslations(io.BytesIO(buf.getvalue()))
    with MO.open("rb") as f:
        shipped = gettext.GNUTranslations(f)
    # the header carries a creation date; compare the messages
    shipped_msgs = {k: v for k, v in shipped._catalog.items() if k}  # type: ignore[attr-defined]
    fresh_msgs = {k: v for k, v in fresh._catalog.items() if k}  # type: ignore[attr-defined]
    assert shipped_msgs == fresh_msgs, (
        "capsim.mo is stale: run `pybabel compile -D capsim -d capsim/locale`"
    )


def test_the_shipped_scenarios_describe_themselves_in_chinese() -> None:
    import yaml

    from capsim.i18n import localize

    for path in [*sorted(SCENARIOS.glob("*.yaml")), ROOT / "capsim" / "data" / "partition.yaml"]:
        desc = yaml.safe_load(path.read_text(encoding="utf-8")).get("description")
        if desc:
            assert localize(desc, "zh") != desc, path.name


def test_localize_reads_a_stored_explanation_back_in_chinese() -> None:
    from capsim import seed_scenario, simulate
    from capsim.i18n import localize

    expl = simulate(seed_scenario(), policy="ap").checks["linearizable"]["explanation"]
    assert expl.startswith("bob read v0 from G2 at t=3.00 s")
    assert localize(expl, "zh") == (
        "bob 在 t=3.00 s 从 G2 读到 v0，但 alice 的写入（v1，写到 G1）早在 t=2.00 s 就已被确认。"
    )
    assert localize(expl, "en") == expl
    # text the catalogue does not know comes back as it was
    assert localize("alice", "zh") == "alice"
    assert localize("my own scenario, in my words", "zh") == "my own scenario, in my words"


def test_the_old_word_table_reads_from_the_catalogue() -> None:
    from capsim.i18n import tr

    assert tr("stale reads", "zh") == "过期读"
    assert tr("partition tolerance", "zh") == "分区容错性"
    assert tr("stale reads", "en") == "stale reads"
    assert tr("no such key in the table", "zh") == "no such key in the table"


@pytest.mark.parametrize("env, expected", [
    ({"CAPSIM_LANG": "zh"}, "zh"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ({"CAPSIM_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LANG": "fr_FR.UTF-8"}, "en"),
    ({}, "en"),
])
def test_language_comes_from_capsim_lang_then_the_locale(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    from capsim.i18n import resolve_lang

    for var in ("CAPSIM_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert resolve_lang(None) == expected


def test_po_file_keeps_module_blocks(tmp_path: Path) -> None:
    """Blocks start with a ``# --- module ---`` comment so helpers' appends merge cleanly."""
    text = PO.read_text(encoding="utf-8")
    assert "# --- capsim/check/explain.py" in text
    assert "# --- capsim/policies/*.py" in text


def test_the_glossary_and_the_catalogue_use_the_same_chinese() -> None:
    """A term the glossary translates is translated the same way wherever capsim says it alone."""
    glossary = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    pairs = re.findall(r"^\| ([^|]+?) \| ([^|]+?) \|", glossary, re.M)
    cat = _catalogue()
    checked = 0
    for en, zh in pairs:
        m = cat.get(en.strip())
        if m is None or not m.string:
            continue
        checked += 1
        assert m.string.strip() == zh.split("（")[0].strip(), (en, zh, m.string)
    assert checked >= 10
    for term in ("一致性", "可用性", "分区容错性", "线性一致性", "过期读", "仲裁", "副本",
                 "网络分区", "领导者", "任期", "多数派"):
        assert f"| {term} |" in glossary, term


def _every_explanation_shape() -> list[str]:
    """One violating history per sentence shape of capsim.check.explain, plus ok and unknown."""
    from capsim.check.linearizable import check_linearizable
    from tests.histories import build, cas, r, w

    histories = [
        build(w("alice", "v1", 1, 2, node="G1"), r("bob", "v0", 3, 4, node="G2")),
        build(r("3", "v9", 3, 4)),
        build(cas("a", "v5", "v6", 1, 2, node="G1")),
        build(r("b", "v1", 0, 1, node="G2"), w("a", "v1", 2, 3, node="G1")),
        build(w("a", "v1", 1, None, type="info"), r("b", "v1", 2, 3), r("c", "v0", 4, 5),
              w("d", "v2", 0.5, 6)),
        build(w("a", "v0", 0, 1), w("b", "v0", 1.5, 2), w("e", "v0", 2.1, 2.5),
              w("c", "v1", 3, 4), r("d", "v0", 5, 6)),
        build(w("a", "v1", 0, None, type="info", node="G1"), w("b", "v2", 0, 1),
              r("c", "v1", 2, 3), r("d", "v2", 2.1, 3.1), r("e", "v1", 3.2, 4),
              r("f", "v2", 3.3, 4.1)),
        build(cas("a", "v0", "v1", 0, 1, node="G1"), cas("b", "v0", "v2", 0, 1, node="G2"),
              r("c", "v1", 2, 3), r("d", "v2", 3.5, 4)),
        build(w("a", "v1", 1, 2, key="x"), r("b", "v0", 3, 4, key="x"),
              w("c", "v1", 1, 2, key="y")),
        build(w("a", "v1", 0, 1), r("b", "v1", 2, 3)),
    ]
    out = [check_linearizable(h, initial={"x": "v0", "y": "v0"}).explanation for h in histories]
    many = build(*[w(f"a{i}", f"v{i}", i * 0.1, 5) for i in range(12)],
                 *[r(f"b{i}", f"v{i}", 5.5, 6) for i in range(12)])
    out.append(check_linearizable(many, budget_steps=5).explanation)
    return out


def test_every_explanation_shape_reads_back_in_chinese() -> None:
    from capsim.i18n import localize

    from .test_zh_output import english_left

    shapes = _every_explanation_shape()
    assert len(set(shapes)) == len(shapes)
    for text in shapes:
        zh = localize(text, "zh")
        assert zh != text
        assert english_left(zh) == [], (text, zh)


def test_values_are_data_not_words() -> None:
    """A register value that happens to be an English word stays as it is."""
    from capsim.check.linearizable import check_linearizable
    from capsim.i18n import localize
    from tests.histories import build, r, w

    h = build(w("alice", "write", 1, 2, node="G1"), r("bob", "ok", 3, 4, node="G2"))
    zh = localize(check_linearizable(h, initial={"x": "ok"}).explanation, "zh")
    assert zh == ("bob 在 t=4.00 s 从 G2 读到 ok，但 alice 的写入（write，写到 G1）"
                  "早在 t=2.00 s 就已被确认。")
