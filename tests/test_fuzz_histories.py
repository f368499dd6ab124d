"""Fuzz: hostile history files never crash or hang ``capsim check``'s readers (issue 19 §2).

``ci`` profile: a few hundred inputs; ``thorough``: 2,500.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import fuzz_harness as fz

N = 2_500 if fz.thorough() else 150
SEEDS = fz._seed_histories()


@settings(max_examples=N, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(fz.history_text(SEEDS), st.sampled_from(["h.jsonl", "h.edn", "h.txt", "h"]))
def test_any_history_text_is_rejected_cleanly_or_checked(text: str, name: str) -> None:
    fz.STATS["history.inputs"] += 1
    fz.check_history_text(text, name)
    fz.write_stats()


def test_nan_and_huge_numbers_are_rejected_with_the_line() -> None:
    from capsim.errors import CapsimError
    from capsim.formats import parse_history

    line = '{"index":%s,"time":%s,"process":"a","type":"invoke","f":"read","key":"x"}\n'
    for index, time_, words in [("0", "NaN", "time must be a finite number"),
                                ("1e999", "1", "index must be a whole number"),
                                ("0", "1e999", "time must be a finite number")]:
        try:
            parse_history(line % (index, time_), "jsonl", "h.jsonl")
        except CapsimError as exc:
            assert str(exc).startswith("h.jsonl:1: ") and words in str(exc)
        else:
            raise AssertionError("accepted")
