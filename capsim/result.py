"""What a run leaves behind: history, replica trace, faults, messages, checks.

A :class:`RunResult` is plain data. It is written as ``history.jsonl`` plus
``result.json`` and read back by :meth:`RunResult.load`, so plots and checks
can be redone from a saved run folder without re-simulating.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capsim._version import __version__
from capsim.history import History, json_line
from capsim.journal import MessageLog, TraceLog
from capsim.records import Fault, Mark, Message, RoleEntry, TraceEntry

if TYPE_CHECKING:
    import pandas as pd

    from capsim.scenario import Scenario


_TRACE_SLOT = "\x00capsim-trace\x00"  # where json_chunks splices the trace in


@dataclass(frozen=True)
class RunResult:
    """Everything about one run of one scenario under one policy."""

    scenario: Scenario
    policy: str
    seed: int
    history: History
    trace: Sequence[TraceEntry]
    faults: list[Fault]
    messages: Sequence[Message]
    checks: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    """The policy's effective tunables (scenario ``params`` plus overrides such as --nrw)."""
    roles: list[RoleEntry] = field(default_factory=list)
    """Role, term and commit index over time (leader-based policies; empty for others)."""
    marks: list[Mark] = field(default_factory=list)
    """Replica states a policy reported (``lock``: which key is locked when), for pictures."""

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def label(self) -> str:
        """The policy as a person names it: ``quorum N=3 R=1 W=1``, ``ap``."""
        from capsim.policies import REGISTRY

        cls = REGISTRY.get(self.policy)
        if cls is None:
            return self.policy
        return cls.describe(self.params, len(self.scenario.nodes))

    def metrics(self) -> dict[str, Any]:
        """The checks as a flat dict of numbers, for tables and sweeps."""
        from capsim.check import flatten

        return flatten(self.checks)

    def to_dict(self, trace: bool = True) -> dict[str, Any]:
        return {
            "capsim_version": __version__,
            "scenario": self.scenario.name,
            "policy": self.policy,
            "seed": self.seed,
            "params": self.params,
            "checks": self.checks,
            "faults": [f._asdict() for f in self.faults],
            "trace": [list(t) for t in self.trace] if trace else [],
            **({"roles": [list(r) for r in self.roles]} if self.roles else {}),
            **({"marks": [list(m) for m in self.marks]} if self.marks else {}),
            "spec": self.scenario.model_dump(mode="json", by_alias=True),
        }

    def to_json(self) -> str:
        return "".join(self.json_chunks())

    def json_chunks(self) -> Iterator[str]:
        """``result.json`` in pieces: indented as usual, one trace entry per line.

        The trace of a 100k-op run has hundreds of thousands of entries;
        written entry by entry it never becomes one big string (or a list of
        lists) in memory.
        """
        head: dict[str, Any] = self.to_dict(trace=False)
        head["trace"] = _TRACE_SLOT
        before, after = json.dumps(head, indent=2, ensure_ascii=False).split(
            json.dumps(_TRACE_SLOT), 1)
        yield before + "["
        first = True
        for t in self.trace:
            yield ("\n    " if first else ",\n    ") + json_line(list(t))[:-1]
            first = False
        yield ("\n  ]" if not first else "]") + after + "\n"

    def messages_jsonl(self) -> str:
        return "".join(self.messages_lines())

    def messages_lines(self) -> Iterator[str]:
        """``messages.jsonl`` one line at a time: 1.5 million messages never sit in one string."""
        for m in self.messages:
            yield json_line(m._asdict())

    def history_frame(self) -> pd.DataFrame:
        """The history as a pandas DataFrame (needs pandas: ``pip install pandas``)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "history_frame() needs pandas: pip install -e '.[notebooks]'"
            ) from exc
        cols = ["index", "time", "process", "node", "type", "f", "key", "value", "error"]
        rows = []
        for e in self.history:
            d = e.to_dict()
            rows.append([d.get(c) for c in cols])
        return pd.DataFrame(rows, columns=cols)

    def operations_frame(self) -> pd.DataFrame:
        """One row per client operation, with its latency and the checks' verdicts on it.

        The event table (:meth:`history_frame`) lists an invoke and a completion
        per operation; questions a student asks ("how long did cp's reads take?",
        "which reads were stale?", "what failed during the partition?") are
        about whole operations, so this pairs them up once, the way the
        checkers do. ``value`` is the value read (reads) or written (writes;
        ``[expected, new]`` for cas). ``end`` and ``latency`` are NaN when the
        client got no answer before the run ended; an ``info`` operation's
        ``end`` is when the client gave up. ``partitioned`` says whether the
        operation began while a partition or a one-way cut was in force (the
        split behind ``availability.during_partition``), ``stale`` whether the
        stale-read check flagged it.
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "operations_frame() needs pandas: pip install -e '.[notebooks]'"
            ) from exc
        from capsim.check.staleness import stale_reads

        ops = self.history.operations()
        stale_check = self.checks.get("stale_reads")
        if stale_check is None:  # a result built without checks: run the one we need
            stale_check = stale_reads(ops, self.scenario.initial)
        stale = set(stale_check.get("ops", []))
        net = [f for f in self.faults if f.kind in ("partition", "cut")]
        cols = ["index", "process", "node", "f", "key", "value", "type", "start", "end",
                "latency", "partitioned", "stale", "error"]
        rows = []
        for op in ops:
            end = float("nan") if op.complete is None else op.complete.time
            value = op.value
            rows.append([
                op.invoke.index, op.process, op.node, op.f, op.key,
                list(value) if isinstance(value, tuple) else value,
                op.type, op.start, end, end - op.start,
                any(f.start <= op.start < f.end for f in net),
                op.invoke.index in stale,
                None if op.complete is None else op.complete.error,
            ])
        return pd.DataFrame(rows, columns=cols)

    @classmethod
    def load(cls, folder: str | Path) -> RunResult:
        """Read a run folder written by ``capsim run`` (history.jsonl + result.json)."""
        from capsim.errors import CapsimError
        from capsim.scenario import parse_scenario

        d = Path(folder)
        for name in ("history.jsonl", "result.json"):
            if not (d / name).is_file():
                raise CapsimError(f"{d}: no {name} here; is this a run folder of `capsim run`?")
        try:
            data = json.loads((d / "result.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CapsimError(f"{d / 'result.json'}:{exc.lineno}: not JSON: {exc.msg}") from None
        history = History.read(d / "history.jsonl")
        messages = MessageLog()
        mpath = d / "messages.jsonl"
        if mpath.is_file():
            with mpath.open(encoding="utf-8") as fh:  # line by line: it can be large
                for line in fh:
                    if line.strip():
                        messages.append(*Message(**json.loads(line)))
        return cls(
            scenario=parse_scenario(data["spec"], source=str(d / "result.json")),
            policy=data["policy"],
            seed=int(data["seed"]),
            history=history,
            trace=TraceLog.of(TraceEntry(*t) for t in data.get("trace", [])),
            faults=[Fault(**f) for f in data.get("faults", [])],
            messages=messages,
            checks=data.get("checks", {}),
            params=data.get("params", {}),
            roles=[RoleEntry(*r) for r in data.get("roles", [])],
            marks=[Mark(*m) for m in data.get("marks", [])],
        )

    def _repr_html_(self) -> str:
        from capsim.report import result_html

        return result_html(self)

    def __repr__(self) -> str:
        return (
            f"RunResult(scenario={self.scenario.name!r}, policy={self.policy!r}, "
            f"seed={self.seed}, events={len(self.history)})"
        )
