"""Each ladder checker agrees with a brute-force oracle on small random histories."""

from __future__ import annotations

from hypothesis import given, settings

from capsim.check.ladder import check_ladder
from capsim.history import History

from .ladder_gen import INITIAL, small_histories
from .ladder_oracle import ORACLES


def _verdicts(h: History) -> dict[str, str]:
    return check_ladder(h, initial=INITIAL, models=list(ORACLES), linearizability=None,
                        budget_steps=None).verdicts()


@settings(max_examples=300)
@given(small_histories())
def test_every_checker_agrees_with_its_oracle(h: History) -> None:
    from capsim.check.causal import check_causal
    from capsim.check.pram import check_pram
    from capsim.check.sequential import check_sequential
    from capsim.check.session import check_mr, check_mw, check_ryw, check_wfr

    checkers = {"sequential": lambda h, i: check_sequential(h, initial=i, budget_steps=None),
                "causal": check_causal, "pram": check_pram, "ryw": check_ryw,
                "mr": check_mr, "mw": check_mw, "wfr": check_wfr}
    for model, oracle in ORACLES.items():
        fn = checkers[model]
        got = fn(h, initial=INITIAL) if model != "sequential" else fn(h, INITIAL)
        want = "yes" if oracle(h, INITIAL) else "no"
        assert got.verdict == want, (model, h.to_jsonl())
