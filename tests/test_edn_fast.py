"""The one-line fast path of the EDN reader gives what the general reader gives."""

from __future__ import annotations

import pytest

from capsim.errors import HistoryFormatError
from capsim.formats import edn

LINES = [
    '{:type :invoke, :f :write, :value 3, :process 0, :time 12, :index 0}',
    '{:type :ok, :f :write, :value 3, :process 0, :time 15, :index 1}',
    '{:type :invoke, :f :cas, :value [1 2], :process 1, :time 16}',
    '{:type :fail, :f :cas, :value [1 2], :process 1, :time 17, :error "not found"}',
    '{:type :invoke, :f :read, :value nil, :process 2, :time 18, :node "n1", :client "bob"}',
    '{:type :info, :f :read, :value nil, :process 2, :time 19, :error :timed-out, :client "bob"}',
    '{:type :invoke :f :write :value :v1 :process "p9" :time 20 :key :k}',
    '{:type :ok :f :write :value :v1 :process "p9" :time 21 :key :k}',
    '{:type :invoke, :f :write, :value [0 true], :process 3, :time 22}',
    '{:type :ok, :f :write, :value [0 true], :process 3, :time 23}',
]

ODD = [
    '{:type :invoke, :f :read, :value truefalse, :process 4, :time 30}',
    '{:type :invoke, :f :write, :value 1.5, :process 4, :time 30}',
    '{:type :invoke, :f :write, :value 12N, :process 4, :time 30}',
    '{:type :invoke, :f :write, :value "a\\"b", :process 4, :time 30}',
    '{:type :invoke, :f :write, :value 1, :process 4, :time 30, :time 31}',
    '{:type :invoke, :f :write, :value 1, :process :nemesis, :time 30}',
    '{:type :invoke, :f :write, :value 1, :process 4, :time :soon}',
    '{:type "invoke", :f :write, :value 1, :process 4}',
]


def _both(text: str) -> tuple[object, object]:
    def run() -> object:
        try:
            return [e.to_dict() for e in edn.parse_edn(text, "h.edn")]
        except HistoryFormatError as exc:
            return ("error", str(exc))

    fast = run()
    saved = edn._simple_op
    edn._simple_op = lambda *a: None  # type: ignore[assignment]
    try:
        slow = run()
    finally:
        edn._simple_op = saved
    return fast, slow


def test_plain_lines_take_the_fast_path_and_agree() -> None:
    assert all(edn._simple_op(line, 1) is not None for line in LINES)
    fast, slow = _both("\n".join(LINES) + "\n")
    assert fast == slow
    assert isinstance(fast, list) and len(fast) == 10


@pytest.mark.parametrize("odd", ODD)
def test_unusual_lines_go_to_the_general_reader(odd: str) -> None:
    assert edn._simple_op(odd, 1) is None
    fast, slow = _both("\n".join([*LINES[:2], odd]) + "\n")
    assert fast == slow
