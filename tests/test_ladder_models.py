"""The consistency ladder on textbook histories: every model, both verdicts, in words."""

from __future__ import annotations

import pytest

from capsim.check.causal import check_causal
from capsim.check.ladder import IMPLIED_BY, check_ladder, stronger
from capsim.check.model_result import MODELS
from capsim.check.model_words import render
from capsim.check.pram import check_pram
from capsim.check.sequential import check_sequential
from capsim.check.session import check_mr, check_mw, check_ryw, check_wfr

from .histories import build, r, w
from .ladder_cases import CASES, Case, verdicts

INIT = {"x": "0", "y": "0"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_textbook_history_verdicts(case: Case) -> None:
    assert verdicts(case) == case.expected


def test_every_model_has_both_verdicts_among_the_textbook_cases() -> None:
    for m in MODELS:
        seen = {c.expected[m] for c in CASES}
        assert seen == {"yes", "no"}, m


def test_every_neighbouring_pair_is_separated_by_some_case() -> None:
    for weak, strongs in IMPLIED_BY.items():
        for s in strongs:
            separated = [c for c in CASES if c.expected[weak] == "yes" and c.expected[s] == "no"]
            assert separated, (s, weak)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_implications_hold_on_the_textbook_cases(case: Case) -> None:
    got = verdicts(case)
    for m in MODELS:
        if got[m] == "yes":
            for weaker in (x for x in MODELS if m in stronger(x)):
                assert got[weaker] == "yes", (m, weaker)


def test_ladder_skips_models_implied_by_a_stronger_one() -> None:
    h = build(w("a", "1", 0, 1), r("b", "1", 2, 3))
    ladder = check_ladder(h, initial=INIT)
    assert ladder.results["linearizable"].verdict == "yes"
    for m in MODELS[1:]:
        assert ladder.results[m].implied_by is not None
        assert ladder.results[m].steps == 0
    stale = check_ladder(build(w("a", "1", 0, 1), r("b", "0", 2, 3)), initial=INIT)
    assert stale.results["sequential"].implied_by is None
    assert stale.results["causal"].implied_by == "sequential"
    assert stale.line() == ("linearizable ✗ · sequential ✓ · causal ✓ · PRAM ✓ · RYW ✓ · "
                            "MR ✓ · MW ✓ · WFR ✓")


def test_sequential_is_not_decided_key_by_key() -> None:
    """Store buffer: each key alone is sequentially consistent, the pair is not."""
    ops = [w("a", "1", 0, 1), r("a", "0", 2, 3, key="y"), w("b", "1", 0, 1, key="y"),
           r("b", "0", 2, 3)]
    assert check_sequential(build(*ops), initial=INIT).verdict == "no"
    for key in ("x", "y"):
        alone = build(*[o for o in ops if o.key == key])
        assert check_sequential(alone, initial=INIT).verdict == "yes"


def test_sequential_budget_gives_unknown() -> None:
    ops = []
    for i in range(6):
        ops.append(w(f"p{i}", str(i + 1), 0, 10))
    ops.append(r("z", "99", 11, 12))  # a value never written: the search must exhaust
    res = check_sequential(build(*ops), initial=INIT, budget_steps=3)
    assert res.verdict == "unknown"
    assert "budget" in res.sentence


def test_sequential_witness_is_minimal_and_explained() -> None:
    h = build(w("a", "1", 0, 1), r("a", "0", 2, 3, key="y"), w("b", "1", 0, 1, key="y"),
              r("b", "0", 2, 3), w("c", "9", 0, 1, key="z"), r("c", "9", 2, 3, key="z"))
    res = check_sequential(h, initial={**INIT, "z": "0"})
    assert res.verdict == "no"
    assert len(res.witness) == 4
    assert {o.process for o in res.witness_ops} == {"a", "b"}
    assert "keeps each client's own order" in res.sentence
    assert "a read 0 of y" in res.sentence


def test_ryw_sentence_names_the_client_and_the_operations() -> None:
    res = check_ryw(build(w("alice", "v1", 0, 1, node="G1"), r("alice", "v0", 2, 3, node="G2")),
                    initial={"x": "v0"})
    assert res.verdict == "no"
    assert res.process == "alice"
    assert res.sentence.startswith("alice did not read their own writes")
    assert "alice wrote v1 to x on G1 at t=0 s" in res.sentence
    assert "alice read v0 of x from G2 at t=3 s" in res.sentence


def test_mr_witness_drops_operations_that_do_not_matter() -> None:
    h = build(w("a", "1", 0, 1), w("b", "2", 0, 1), r("c", "1", 2, 3), r("c", "2", 4, 5),
              r("c", "1", 6, 7), w("d", "7", 0, 1, key="y"), r("d", "7", 2, 3, key="y"))
    res = check_mr(h, initial=INIT)
    assert res.verdict == "no"
    assert len(res.witness) == 5
    assert "went back in time" in res.sentence


def test_causal_names_bouajjani_patterns() -> None:
    loop = build(r("a", "1", 0, 1), w("a", "1", 2, 3, key="y"), r("b", "1", 0, 1, key="y"),
                 w("b", "1", 2, 3))
    assert check_causal(loop, initial=INIT).pattern == "CyclicCO"
    thin = build(r("a", "5", 0, 1))
    res = check_causal(thin, initial=INIT)
    assert (res.verdict, res.pattern) == ("no", "ThinAirRead")
    assert "no operation ever wrote 5" in res.sentence
    init_read = build(w("a", "1", 0, 1), r("b", "1", 2, 3), w("b", "2", 4, 5, key="y"),
                      r("c", "2", 6, 7, key="y"), r("c", "0", 8, 9))
    assert check_causal(init_read, initial=INIT).pattern in ("WriteCOInitRead", "WriteHBInitRead")
    back = build(w("a", "1", 0, 1), w("b", "2", 0, 1), r("c", "1", 2, 3), r("c", "2", 4, 5),
                 r("c", "1", 6, 7))
    assert check_causal(back, initial=INIT).pattern in ("WriteCORead", "CyclicHB")


def test_causal_memory_not_causal_convergence() -> None:
    """Bouajjani et al.'s CM-but-not-CCv history: capsim checks CM, so it holds."""
    h = build(w("a", "1", 0, 1), r("a", "2", 2, 3), w("b", "2", 0, 1), r("b", "1", 2, 3))
    assert check_causal(h, initial=INIT).verdict == "yes"
    assert check_sequential(h, initial=INIT).verdict == "no"


def test_repeated_written_values_give_unknown_for_the_view_models() -> None:
    h = build(w("a", "1", 0, 1), w("b", "1", 2, 3), r("c", "1", 4, 5))
    for fn in (check_causal, check_pram, check_ryw, check_mr, check_mw, check_wfr):
        res = fn(h, initial=INIT)
        assert res.verdict == "unknown"
        assert "unique" in res.sentence
    assert check_sequential(h, initial=INIT).verdict == "yes"


def test_failed_and_unanswered_operations_follow_jepsen() -> None:
    # A failed write never happened: reading its value is a read from thin air.
    failed = build(w("a", "1", 0, 1, type="fail"), r("b", "1", 2, 3))
    assert check_pram(failed, initial=INIT).verdict == "no"
    # An unanswered write may happen after its client's next operations.
    late = build(w("a", "1", 0, 1, type="info"), r("a", "0", 2, 3), r("b", "1", 4, 5))
    assert check_ryw(late, initial=INIT).verdict == "yes"
    assert check_sequential(late, initial=INIT).verdict == "yes"


def test_sentences_in_chinese() -> None:
    h = build(w("alice", "v1", 0, 1, node="G1"), r("alice", "v0", 2, 3, node="G2"))
    res = check_ryw(h, initial={"x": "v0"}, lang="zh")
    assert "alice" in res.sentence and "读" in res.sentence
    assert "did not" not in res.sentence
    again = render(check_ryw(h, initial={"x": "v0"}, lang="en").to_dict(), "zh")
    assert again == res.sentence
    zh_line = check_ladder(h, initial={"x": "v0"}, lang="zh").line("zh")
    assert "线性一致" in zh_line and "读己之写" in zh_line


def test_unknown_model_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        check_ladder(build(r("a", "0", 0, 1)), initial=INIT, models=["serializable"])
