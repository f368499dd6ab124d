"""History formats: capsim JSON Lines, Jepsen EDN and txt; detection, round trips, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import edn_format
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capsim.check.linearizable import check_linearizable
from capsim.errors import HistoryFormatError
from capsim.formats import detect_format, parse_history, read_history
from capsim.formats.edn import loads_value, parse_edn, to_edn, to_python, write_edn
from capsim.formats.jsonl import parse_jsonl
from capsim.formats.txt import parse_txt
from capsim.history import History
from tests.histories import build, cas, r, w

# A Jepsen cas-register history (single key), in the shape Jepsen writes it.
JEPSEN_EDN = """\
{:type :invoke, :f :write, :value 3, :process 0, :time 1000000, :index 0}
{:type :invoke, :f :read, :value nil, :process 1, :time 2000000, :index 1}
{:type :ok, :f :write, :value 3, :process 0, :time 3000000, :index 2}
{:type :info, :f :start, :value nil, :process :nemesis, :time 3500000, :index 3}
{:type :ok, :f :read, :value 3, :process 1, :time 4000000, :index 4}
{:type :invoke, :f :cas, :value [3 4], :process 0, :time 5000000, :index 5}
{:type :ok, :f :cas, :value [3 4], :process 0, :time 6000000, :index 6}
{:type :invoke, :f :cas, :value [1 2], :process 1, :time 7000000, :index 7}
{:type :fail, :f :cas, :value [1 2], :process 1, :time 8000000, :index 8}
{:type :invoke, :f :write, :value 9, :process 1, :time 9000000, :index 9}
{:type :info, :f :write, :value 9, :process 1, :time 10000000, :index 10, :error :timeout}
{:type :invoke, :f :read, :value nil, :process 6, :time 11000000, :index 11}
{:type :ok, :f :read, :value 4, :process 6, :time 12000000, :index 12}
"""

# The same ops as Jepsen's log lines print them (no times).
JEPSEN_TXT = """\
INFO  jepsen.util - 0\t:invoke\t:write\t3
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - 0\t:ok\t:write\t3
INFO  jepsen.core - Nemesis starting
:nemesis\t:info\t:start\tnil
INFO  jepsen.util - 1\t:ok\t:read\t3
INFO  jepsen.util - 0\t:invoke\t:cas\t[3 4]
INFO  jepsen.util - 0\t:ok\t:cas\t[3 4]
INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]
INFO  jepsen.util - 1\t:fail\t:cas\t[1 2]
INFO  jepsen.util - 1\t:invoke\t:write\t9
INFO  jepsen.util - 1\t:info\t:write\t:timed-out
INFO  jepsen.util - 6\t:invoke\t:read\tnil
INFO  jepsen.util - 6\t:ok\t:read\t4
"""

INDEPENDENT_EDN = """\
{:type :invoke, :f :write, :value [0 1], :process 0, :time 10, :index 0}
{:type :invoke, :f :read, :value [1 nil], :process 1, :time 20, :index 1}
{:type :ok, :f :write, :value [0 1], :process 0, :time 30, :index 2}
{:type :ok, :f :read, :value [1 nil], :process 1, :time 40, :index 3}
{:type :invoke, :f :cas, :value [0 [1 2]], :process 0, :time 50, :index 4}
{:type :ok, :f :cas, :value [0 [1 2]], :process 0, :time 60, :index 5}
"""


def _rich_history() -> History:
    """Names, nodes, several keys, cas, info then a continuing client, an error."""
    from capsim.history import Event

    h = build(
        w("alice", "v1", 0.5, 0.75, node="G1"),
        r("bob", "v1", 1.0, 1.25, node="G2", key="y"),
        cas("alice", "v1", "v2", 1.5, 2.0, node="G1"),
        w("alice", "v3", 2.5, 3.0, type="info", node="G1"),
        r("alice", "v3", 3.5, 3.75, node="G1"),
        w("bob", {"n": [1, 2]}, 4.0, 4.5, node="G2", key="y"),
    )
    events = list(h)
    i = next(k for k, e in enumerate(events) if e.type == "info")
    e = events[i]
    events[i] = Event(e.index, e.time, e.process, e.node, e.type, e.f, e.key, e.value, "timeout")
    return History(events)


# --------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------


def test_detect_format_from_content() -> None:
    assert detect_format(_rich_history().to_jsonl()) == "jsonl"
    assert detect_format(JEPSEN_EDN) == "edn"
    assert detect_format("[" + JEPSEN_EDN + "]") == "edn"
    assert detect_format(JEPSEN_TXT) == "txt"
    assert detect_format("0\t:invoke\t:read\tnil\n") == "txt"


def test_detect_format_falls_back_to_the_suffix_and_then_says_what_to_do() -> None:
    assert detect_format("", "h.edn") == "edn"
    assert detect_format("INFO  nothing here\n", "run.log") == "txt"
    with pytest.raises(HistoryFormatError, match="pass --format jsonl, edn or txt"):
        detect_format("hello world\n", "notes.md")


# --------------------------------------------------------------------------
# Jepsen EDN and txt
# --------------------------------------------------------------------------


def test_jepsen_edn_reads_as_one_register_in_seconds() -> None:
    h = parse_edn(JEPSEN_EDN, "history.edn")
    assert len(h) == 12  # the nemesis op is skipped
    assert {e.key for e in h} == {"x"}
    first = h[0]
    assert (first.process, first.f, first.value, first.time) == ("0", "write", 3, 0.001)
    assert h[4].value == (3, 4)  # cas as (expected, new)
    info = next(e for e in h if e.type == "info")
    assert (info.value, info.error) == (9, "timeout")
    res = check_linearizable(h)
    assert res.linearizable is True


def test_jepsen_txt_gives_the_same_ops_as_edn() -> None:
    t = parse_txt(JEPSEN_TXT, "history.txt")
    e = parse_edn(JEPSEN_EDN, "history.edn")
    strip = [(x.process, x.type, x.f, x.key, x.value) for x in t]
    assert strip == [(x.process, x.type, x.f, x.key, x.value) for x in e]
    # No times in txt: the line number stands in.
    assert [x.time for x in t][:3] == [1.0, 2.0, 3.0]
    assert next(x for x in t if x.type == "info").error == "timed-out"


def test_independent_keys_split_into_registers() -> None:
    h = parse_edn(INDEPENDENT_EDN)
    assert [(e.key, e.value) for e in h] == [
        ("0", 1),
        ("1", None),
        ("0", 1),
        ("1", None),
        ("0", (1, 2)),
        ("0", (1, 2)),
    ]
    assert check_linearizable(h).linearizable is True


def test_a_whole_vector_and_a_pretty_printed_map_are_read() -> None:
    whole = parse_edn("[" + JEPSEN_EDN + "]")
    assert whole == parse_edn(JEPSEN_EDN)
    pretty = (
        "{:type :invoke,\n :f :read,\n :value nil,\n :process 0}\n"
        "{:type :ok, :f :read, :value nil, :process 0}\n"
    )
    h = parse_edn(pretty)
    assert [e.type for e in h] == ["invoke", "ok"]


def test_to_edn_follows_knossos_conventions() -> None:
    h = build(
        w("alice", "v1", 0.5, 0.75, node="G1"),
        w("alice", "v2", 1.0, 1.5, type="info"),
        r("alice", "v2", 2.0, 2.5),
        r("bob", "v2", 2.0, 2.25),
    )
    text = to_edn(h)
    ops = [edn_format.loads(line) for line in text.splitlines()]
    K = edn_format.Keyword
    assert all(isinstance(op[K("process")], int) for op in ops)
    by_time = {op[K("time")]: op for op in ops}
    assert by_time[500_000_000][K("value")] == "v1"  # one key: plain values, not [k v]
    # alice continues after her info, so she comes back as a fresh process.
    procs_of_alice = [op[K("process")] for op in ops if op.get(K("client")) == "alice"]
    before, after = procs_of_alice[:4], procs_of_alice[4:]
    assert len(set(before)) == 1 and len(set(after)) == 1 and set(before) != set(after)
    assert [op[K("index")] for op in ops] == list(range(len(ops)))
    assert by_time[500_000_000][K("node")] == "G1"


def test_to_edn_uses_independent_tuples_only_for_several_keys() -> None:
    text = to_edn(_rich_history())
    first = edn_format.loads(text.splitlines()[0])
    assert first[edn_format.Keyword("value")] == ["x", "v1"]
    single = to_edn(build(w("a", 1, 0, 1, key="0")))
    value = edn_format.loads(single.splitlines()[0])[edn_format.Keyword("value")]
    assert value == 1


# --------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------


def test_jsonl_to_edn_and_back_is_lossless() -> None:
    h = _rich_history()
    assert parse_edn(to_edn(h)) == h
    assert parse_jsonl(h.to_jsonl()) == h


def test_one_key_not_named_x_survives_the_round_trip() -> None:
    h = build(w("a", 1, 0, 1, key="counter"), r("b", 1, 2, 3, key="counter"))
    assert parse_edn(to_edn(h)) == h


def test_jepsen_edn_to_capsim_and_back_is_the_same_text_minus_the_nemesis() -> None:
    h = parse_edn(JEPSEN_EDN)
    again = to_edn(h)
    expected_ops = [
        edn_format.loads(line) for line in JEPSEN_EDN.splitlines() if ":nemesis" not in line
    ]
    got_ops = [edn_format.loads(line) for line in again.splitlines()]
    K = edn_format.Keyword
    for want, got in zip(expected_ops, got_ops, strict=True):
        for field in ("type", "f", "value", "process", "time"):
            assert got[K(field)] == want[K(field)]
    assert parse_edn(again) == History(
        e.__class__(i, e.time, e.process, e.node, e.type, e.f, e.key, e.value, e.error)
        for i, e in enumerate(h)
    )


def test_independent_history_round_trips_with_integer_keys() -> None:
    h = parse_edn(INDEPENDENT_EDN)
    again = to_edn(h)
    assert edn_format.loads(again.splitlines()[4])[edn_format.Keyword("value")] == [0, [1, 2]]
    assert parse_edn(again) == h


def test_write_edn_writes_the_file(tmp_path: Path) -> None:
    h = _rich_history()
    out = tmp_path / "run" / "history.edn"
    write_edn(h, out)
    assert out.read_text(encoding="utf-8") == to_edn(h)
    assert read_history(out) == h
    assert [p.name for p in out.parent.iterdir()] == ["history.edn"]


# --------------------------------------------------------------------------
# The fast EDN reader agrees with edn_format
# --------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False, width=32).filter(lambda f: f == f)
    | st.text(max_size=8)
    | st.from_regex(r"[a-z][a-z0-9\-]{0,6}", fullmatch=True).map(edn_format.Keyword)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.from_regex(r"[a-z]{1,5}", fullmatch=True).map(edn_format.Keyword), inner, max_size=3
        )
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(_values)
def test_fast_reader_matches_edn_format(value: Any) -> None:
    text = edn_format.dumps(value)
    assert to_python(loads_value(text)) == to_python(edn_format.loads(text))


def test_fast_reader_leaves_unusual_syntax_to_edn_format() -> None:
    assert loads_value('#inst "1985-04-12T23:20:50.52Z"').year == 1985
    assert loads_value(r"\a") == "a"
    assert loads_value("1.5M") == pytest.approx(1.5)
    assert to_python(loads_value("#{1 2}")) == [1, 2]


# --------------------------------------------------------------------------
# Errors name the file and the line
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"index":0,"time":0,"process":"a","type":"invoke","f":"read","key":"x"}\nnot json\n',
            "h:2: not JSON",
        ),
        (
            '{"index":0,"time":0,"process":"a","type":"ok","f":"read","key":"x","value":1}\n',
            "h:1: ok for process a, which has no open invoke",
        ),
        (
            '{"index":0,"time":0,"process":"a","type":"invoke","f":"read","key":"x"}\n\n'
            '{"index":1,"time":1,"process":"a","type":"invoke","f":"read","key":"x"}\n',
            "h:3: process a invokes a new operation while its previous one (line 1) has not "
            "completed",
        ),
        (
            '{"index":0,"time":0,"process":"a","type":"invoke","f":"cas","key":"x","value":1}\n',
            "h:1: a cas needs the value [expected, new], got 1",
        ),
    ],
)
def test_jsonl_errors(text: str, message: str) -> None:
    with pytest.raises(HistoryFormatError) as info:
        parse_history(text, "jsonl", "h")
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{:type :invoke, :f :read, :value nil, :process 0}\n{:type :ok :f\n",
            "h:2: not valid EDN",
        ),
        ("{:f :read, :value nil, :process 0}\n", "h:1: line 1: missing :type"),
        ("{:type :invoke, :f :add, :value 1, :process 0}\n", "h:1: :f :add is not :read"),
        ("{:type :begin, :f :read, :value 1, :process 0}\n", "h:1: :type :begin is not one of"),
        ("{:type :invoke, :f :read, :process [1]}\n", "h:1: line 1: :process must be an integer"),
        ("[1 2]\n", "h: op 0: expected an op map"),
        (
            "{:type :invoke, :f :read, :value nil, :process 0}\n"
            "{:type :ok, :f :write, :value 1, :process 0}\n",
            "h:2: ok :write completes an invoke of :read",
        ),
    ],
)
def test_edn_errors(text: str, message: str) -> None:
    with pytest.raises(HistoryFormatError) as info:
        parse_history(text, "edn", "h")
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0\t:invoke\t:read\n", "h:1: expected 4 tab-separated fields"),
        ("0\tinvoke\t:read\tnil\n", "h:1: type should be a keyword like :type"),
        ("zero\t:invoke\t:read\tnil\n", "h:1: process should be an integer, got 'zero'"),
        ("0\t:invoke\t:read\tnil\nsomething else\n", "h:2: expected process<TAB>:type"),
        ("0\t:invoke\t:write\t[1\n", "h:1: value is not valid EDN"),
        ("0\t:ok\t:read\t1\n", "h:1: ok for process 0, which has no open invoke"),
    ],
)
def test_txt_errors(text: str, message: str) -> None:
    with pytest.raises(HistoryFormatError) as info:
        parse_history(text, "txt", "h")
    assert str(info.value).startswith(message)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(HistoryFormatError, match="no such file"):
        read_history(tmp_path / "missing.edn")
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"a": 1}\n\xff\xfe\n')
    with pytest.raises(HistoryFormatError, match=r"bad.jsonl:2: not UTF-8 text"):
        read_history(bad)


def test_export_with_initial_values_checks_the_same_without_them() -> None:
    K = edn_format.Keyword
    h = build(
        r("bob", "v0", 1.0, 1.5, node="G2"),
        w("alice", "v1", 2.0, 2.1, node="G1"),
        r("bob", "v1", 3.0, 3.05, node="G2"),
    )
    assert check_linearizable(h, initial={"x": "v0"}).linearizable is True
    # Knossos starts every register as nil: without the initial write it would say no.
    assert check_linearizable(parse_edn(to_edn(h))).linearizable is False
    text = to_edn(h, initial={"x": "v0", "unused": 1})
    first = edn_format.loads(text.splitlines()[0])
    assert (first[K("client")], first[K("f")], first[K("value")]) == ("initial", K("write"), "v0")
    assert len(text.splitlines()) == len(h) + 2
    assert check_linearizable(parse_edn(text)).linearizable is True
