"""Scenario files: YAML validated into typed, immutable models.

Teachers write these by hand, so every mistake must come back as one line that
names the file, the line, the field and what would be valid. Pydantic checks
each field; the cross-field checks (a partition naming an unknown node, times
that go backwards) run in one place, :func:`_cross_check`, and both kinds are
mapped back to YAML line numbers by :func:`line_index`.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from capsim.distributions import (
    DIST_NAMES,
    Constant,
    Distribution,
    Exponential,
    LogNormal,
    Mixture,
    Pareto,
    Uniform,
)
from capsim.errors import Problem, ScenarioError
from capsim.i18n import t
from capsim.limits import Limits


def _register_value(v: Any) -> Any:
    """Say how a value is read instead of quietly turning ``true`` into 1."""
    if isinstance(v, bool):
        raise ValueError(t("{v} is a yes/no value in YAML, not a register value; a value is "
                           "text (v1, or in quotes: 'true') or a whole number (3)", None,
                           v=str(v).lower()))
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 2**53:
            return int(v)
        raise ValueError(t("{v} is not a register value; a value is text (v1) or a whole "
                           "number (3)", None, v=_cut_value(v)))
    if not isinstance(v, (str, int)):
        raise ValueError(t("a register value is text (v1) or a whole number (3), not {v}",
                           None, v=_cut_value(v)))
    return v


def _cut_value(v: Any, limit: int = 80) -> str:
    """``repr(v)``, cut to ``limit`` characters: an error echoes a value, never a megabyte."""
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 1] + "…"


Value = Annotated[str | int, BeforeValidator(_register_value)]
"""A register value: a string such as ``v1`` (or an integer)."""

Loc = tuple[str | int, ...]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Link(_Model):
    """Overrides for the link between two nodes (both directions)."""

    between: tuple[str, str]
    latency: Distribution | None = None
    loss: float | None = Field(default=None, ge=0, lt=1)


LatencyPreset = Literal["LNKD-SSD", "LNKD-DISK", "YMMR", "WAN"]
"""The PBS paper's production latency models (``capsim.latency``), by name."""

LATENCY_PRESETS: tuple[str, ...] = typing.get_args(LatencyPreset)


def _latency_tag(v: Any) -> str | None:
    if isinstance(v, str):
        return "preset"
    if isinstance(v, dict):
        return v.get("dist")
    return getattr(v, "dist", None)


# One flat union told apart by ``_latency_tag``: a preset name or a distribution.
# (A plain ``Distribution | LatencyPreset`` would report every mistake twice,
# once per side of the union, under unreadable locations.)
Latency = Annotated[
    Annotated[Constant, Tag("constant")]
    | Annotated[Uniform, Tag("uniform")]
    | Annotated[Exponential, Tag("exponential")]
    | Annotated[LogNormal, Tag("lognormal")]
    | Annotated[Pareto, Tag("pareto")]
    | Annotated[Mixture, Tag("mixture")]
    | Annotated[LatencyPreset, Tag("preset")],
    Discriminator(_latency_tag),
]


class NetworkSpec(_Model):
    """The default latency and loss of every link, and per-link overrides.

    ``latency`` is a distribution in seconds, or the name of one of the PBS
    paper's production models (``LNKD-SSD``, ``LNKD-DISK``, ``YMMR``, ``WAN``),
    which gives each message a delay by its kind: W (write to a replica),
    A (ack), R (read request), S (read response); other kinds of message use
    the model's R delay. See ``docs/quorums.md``.
    """

    latency: Latency = Constant(dist="constant", value=0.05)
    loss: float = Field(default=0.0, ge=0, lt=1)
    links: list[Link] = []

    @field_validator("latency", mode="before")
    @classmethod
    def _latency_kind(cls, v: Any) -> Any:
        presets = ", ".join(LATENCY_PRESETS)
        dists = ", ".join(DIST_NAMES)
        if isinstance(v, str):
            name = v.strip().upper()
            if name not in LATENCY_PRESETS:
                raise ValueError(
                    f"unknown latency preset {v!r}; valid presets: {presets} "
                    f"(or a distribution such as {{dist: constant, value: 0.05}})"
                )
            return name
        if isinstance(v, dict):
            if "dist" not in v:
                raise ValueError(
                    f"a latency distribution needs a dist field: one of {dists} "
                    f"(or name a preset: {presets})"
                )
            if v["dist"] not in DIST_NAMES:
                raise ValueError(
                    f"unknown distribution {v['dist']!r}; valid: {dists} "
                    f"(or name a preset: {presets})"
                )
            return v
        if isinstance(v, BaseModel):
            return v
        raise ValueError(
            f"latency is a distribution such as {{dist: constant, value: 0.05}} "
            f"or a preset name ({presets}), not {v!r}"
        )

    @property
    def preset(self) -> str | None:
        """The latency preset's name, or None when the latency is a distribution."""
        return self.latency if isinstance(self.latency, str) else None


class OneWayCut(_Model):
    """Messages from ``from`` nodes to ``to`` nodes are dropped (not the reverse)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              allow_inf_nan=False)
    from_: list[str] = Field(alias="from", min_length=1)
    to: list[str] = Field(min_length=1)


_FAULT_KINDS = ("partition", "cut", "heal", "crash", "recover", "pause", "resume")


class NemesisEvent(_Model):
    """One fault at time ``at``: one of partition, cut, heal, crash, recover, pause, resume.

    ``partition`` lists groups of nodes that can only talk inside their group;
    nodes not named form one more group together. ``heal: true`` removes every
    partition and cut. A crashed node drops everything and answers nobody; on
    ``recover`` it keeps what its policy stores durably. A paused node (a
    stopped process: SIGSTOP, a long garbage-collection pause) loses nothing:
    messages, requests and timers wait until ``resume``, then it handles them
    in order, all at once.
    """

    at: float = Field(ge=0)
    partition: list[list[str]] | None = None
    cut: OneWayCut | None = None
    heal: bool | None = None
    crash: str | None = None
    recover: str | None = None
    pause: str | None = None
    resume: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> NemesisEvent:
        set_ = [k for k in _FAULT_KINDS if getattr(self, k) is not None]
        if len(set_) != 1:
            raise ValueError(
                "a nemesis event needs exactly one of "
                + ", ".join(_FAULT_KINDS)
                + (f" (got {', '.join(set_)})" if set_ else "")
            )
        if self.heal is False:
            raise ValueError("heal must be true (leave the event out instead)")
        if self.partition is not None and len(self.partition) < 1:
            raise ValueError("partition needs at least one group of nodes")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in _FAULT_KINDS if getattr(self, k) is not None)


Route = Literal["sticky", "hop"]
"""Which replica a client's requests go to (see :class:`Client`)."""


class Client(_Model):
    """A client process, sitting next to its home replica ``node``.

    ``route: sticky`` (the default) sends every request to the home replica,
    a sticky session. ``route: hop`` sends the client's n-th request to the
    n-th replica after its home, round robin over ``nodes`` (a load balancer
    without session affinity): under ``ap`` this breaks read-your-writes and
    monotonic reads during a partition (``scenarios/ladder-hop.yaml``). A
    client reaches every replica directly; partitions cut replica links.
    """

    name: str = Field(min_length=1)
    node: str
    route: Route = "sticky"


class ScheduledOp(_Model):
    """An operation a client issues at time ``at``: exactly one of read, write, cas.

    ``read: x`` reads key x; ``write: {x: v1}`` writes v1 to x;
    ``cas: {x: [v1, v2]}`` sets x to v2 if it holds v1.
    """

    at: float = Field(ge=0)
    client: str
    read: str | None = None
    write: dict[str, Value] | None = None
    cas: dict[str, tuple[Value, Value]] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ScheduledOp:
        set_ = [k for k in ("read", "write", "cas") if getattr(self, k) is not None]
        if len(set_) != 1:
            raise ValueError(
                "an operation needs exactly one of read, write, cas"
                + (f" (got {', '.join(set_)})" if set_ else "")
            )
        for k in ("write", "cas"):
            m = getattr(self, k)
            if m is not None and len(m) != 1:
                raise ValueError(f"{k} takes exactly one key, e.g. {{x: v1}}")
        return self

    @property
    def f(self) -> str:
        return "read" if self.read is not None else ("write" if self.write is not None else "cas")

    @property
    def key(self) -> str:
        if self.read is not None:
            return self.read
        m = self.write if self.write is not None else self.cas
        assert m is not None
        return next(iter(m))

    @property
    def value(self) -> Any:
        if self.write is not None:
            return self.write[self.key]
        if self.cas is not None:
            return tuple(self.cas[self.key])
        return None


class Workload(_Model):
    """A generated workload: Poisson arrivals at ``rate`` ops/s over all its clients.

    Its clients (``w1``, ``w2``, …) are spread round-robin over the nodes
    (``route`` as for :class:`Client`: ``sticky`` or ``hop``). Writes
    write fresh values (``v1``, ``v2``, … per key) so every value is unique,
    which keeps histories easy to read and to check.
    """

    rate: float = Field(gt=0)
    reads: float = Field(default=0.5, ge=0, le=1)
    cas: float = Field(default=0.0, ge=0, le=1)
    keys: int = Field(default=1, ge=1)
    clients: int = Field(default=3, ge=1)
    start: float = Field(default=0.0, ge=0)
    end: float | None = Field(default=None, gt=0)
    route: Route = "sticky"

    @model_validator(mode="after")
    def _fractions(self) -> Workload:
        if self.reads + self.cas > 1:
            raise ValueError(f"reads + cas must be <= 1 (got {self.reads + self.cas})")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


_NAME = re.compile(r"^[^\W_][\w.-]*$")
"""Letters of any script (故事 is a name), digits, '.', '_' and '-': safe as a folder name."""

#: The longest scenario name: it names the run folder, and file systems cap names.
MAX_NAME = 100


class Scenario(_Model):
    """A whole scenario: the cluster, its network, its faults and its clients."""

    name: str
    description: str = ""
    seed: int = 0
    duration: float = Field(gt=0)
    nodes: list[str] = Field(min_length=1)
    initial: dict[str, Value] = {}
    network: NetworkSpec = NetworkSpec()
    policy: str | list[str] = "cp"
    params: dict[str, dict[str, Any]] = {}
    timeout: float = Field(default=1.0, gt=0)
    nemesis: list[NemesisEvent] = []
    clients: list[Client] = []
    operations: list[ScheduledOp] = []
    workload: Workload | None = None
    limits: Limits = Limits()

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if not _NAME.match(v) or len(v) > MAX_NAME:
            raise ValueError(t(
                "name may use letters (of any script, e.g. 故事), digits, '.', '_' and '-', "
                "must start with a letter or digit and be at most {max} characters long "
                "(it names the run folder)", None, max=MAX_NAME))
        return v

    @model_validator(mode="after")
    def _cross(self) -> Scenario:
        problems = _cross_check(self)
        if problems:
            raise _CrossCheckFailed(problems)
        return self

    @property
    def policies(self) -> list[str]:
        """The policies this scenario runs under by default, in order."""
        return [self.policy] if isinstance(self.policy, str) else list(self.policy)

    @property
    def keys(self) -> list[str]:
        """Every key the scenario touches, sorted."""
        ks = set(self.initial)
        ks.update(op.key for op in self.operations)
        if self.workload is not None:
            ks.update(workload_keys(self.workload))
        return sorted(ks)

    def to_yaml(self) -> str:
        """A YAML text that loads back to an equal scenario."""
        data = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        data.setdefault("name", self.name)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

    def replace(self, **changes: Any) -> Scenario:
        """A validated copy with some fields changed (models are immutable)."""
        data = self.model_dump(by_alias=True)
        data.update(changes)
        return parse_scenario(data, source="<python>")


def workload_keys(w: Workload) -> list[str]:
    """The keys a generated workload uses: ``x`` alone, or ``k0``…``k{n-1}``."""
    return ["x"] if w.keys == 1 else [f"k{i}" for i in range(w.keys)]


class _CrossCheckFailed(Exception):
    """Carries cross-field problems out of pydantic unchanged (not a ValueError)."""

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        self.problems = problems
        super().__init__(problems)


def _cross_check(s: Scenario) -> list[tuple[Loc, str]]:
    from capsim.policies import REGISTRY

    out: list[tuple[Loc, str]] = []
    nodes = set(s.nodes)
    node_list = ", ".join(s.nodes)

    seen: set[str] = set()
    for i, n in enumerate(s.nodes):
        if n in seen:
            out.append((("nodes", i), f"node {n!r} is listed twice"))
        seen.add(n)

    names = list(REGISTRY)
    pols = s.policies
    if not pols:
        out.append((("policy",), f"name at least one policy: {', '.join(names)}"))
    for i, p in enumerate(pols):
        loc: Loc = ("policy",) if isinstance(s.policy, str) else ("policy", i)
        if p not in REGISTRY:
            out.append((loc, f"unknown policy {p!r}; valid policies: {', '.join(names)}"))
        elif p in pols[:i]:
            out.append((loc, t("policy {name!r} is named twice; name each policy once", None,
                               name=p)))
    for p, params in s.params.items():
        if p not in REGISTRY:
            out.append((("params", p), f"unknown policy {p!r}; valid policies: {', '.join(names)}"))
            continue
        try:
            # The context lets a policy check its tunables against the cluster
            # (quorum: N, R, W may not exceed the number of nodes).
            REGISTRY[p].Params.model_validate(params, context={"nodes": list(s.nodes)})
        except ValidationError as exc:
            for e in exc.errors():
                out.append((("params", p, *e["loc"]),
                            problem_message(e, REGISTRY[p].Params, tuple(e["loc"]))))

    for i, link in enumerate(s.network.links):
        for j, n in enumerate(link.between):
            if n not in nodes:
                out.append(
                    (("network", "links", i, "between", j), _unknown_node(n, node_list))
                )
        if link.between[0] == link.between[1]:
            out.append((("network", "links", i, "between"),
                        t("a link joins two different nodes; {a} is named twice", None,
                          a=repr(link.between[0]))))

    last = 0.0
    for i, ev in enumerate(s.nemesis):
        if ev.at > s.duration:
            out.append(
                (("nemesis", i, "at"), f"time {ev.at} is after the end of the run ({s.duration})")
            )
        if ev.at < last:
            out.append(
                (("nemesis", i, "at"), f"time {ev.at} is before the previous event's ({last}); "
                 "list nemesis events in time order")
            )
        last = max(last, ev.at)
        if ev.partition is not None:
            named: set[str] = set()
            for g, group in enumerate(ev.partition):
                for j, n in enumerate(group):
                    if n not in nodes:
                        out.append((("nemesis", i, "partition", g, j), _unknown_node(n, node_list)))
                    elif n in named:
                        out.append(
                            (("nemesis", i, "partition", g, j),
                             f"node {n!r} is in two groups; groups must not overlap")
                        )
                    named.add(n)
        if ev.cut is not None:
            for side, members in (("from", ev.cut.from_), ("to", ev.cut.to)):
                for j, n in enumerate(members):
                    if n not in nodes:
                        out.append((("nemesis", i, "cut", side, j), _unknown_node(n, node_list)))
        for kind in ("crash", "recover", "pause", "resume"):
            n = getattr(ev, kind)
            if n is not None and n not in nodes:
                out.append((("nemesis", i, kind), _unknown_node(n, node_list)))

    clients: set[str] = set()
    for i, c in enumerate(s.clients):
        if c.name in clients:
            out.append((("clients", i, "name"), f"client {c.name!r} is listed twice"))
        clients.add(c.name)
        if c.node not in nodes:
            out.append((("clients", i, "node"), _unknown_node(c.node, node_list)))

    last = 0.0
    client_list = ", ".join(c.name for c in s.clients) or "none are defined"
    for i, op in enumerate(s.operations):
        if op.client not in clients:
            out.append(
                (("operations", i, "client"),
                 f"unknown client {op.client!r}; clients: {client_list}")
            )
        if op.at >= s.duration:
            out.append(
                (("operations", i, "at"),
                 t("time {at} is not before the end of the run ({duration}), so the "
                   "operation would never run; schedule it earlier or make duration longer",
                   None, at=op.at, duration=s.duration))
            )
        if op.at < last:
            out.append(
                (("operations", i, "at"), f"time {op.at} is before the previous operation's "
                 f"({last}); list operations in time order")
            )
        last = max(last, op.at)

    if not out:
        from capsim.limits import problems as limit_problems

        out.extend(limit_problems(s))

    if s.workload is not None:
        w = s.workload
        if w.start >= s.duration:
            out.append(
                (("workload", "start"), f"start {w.start} is not before the end of the run "
                 f"({s.duration})")
            )
        if w.end is not None and w.end > s.duration:
            out.append(
                (("workload", "end"), f"end {w.end} is after the end of the run ({s.duration})")
            )
    return out


def _unknown_node(n: str, node_list: str) -> str:
    return t("unknown node {name}; the scenario's nodes are: {nodes}", "en", name=repr(n),
             nodes=node_list)


# --- loading -----------------------------------------------------------------


def read_text_file(path: str | Path, what: str = "scenario") -> str:
    """Read a YAML input file, turning the usual mistakes into ``ScenarioError``."""
    p = Path(path)
    src = str(path)
    if not p.exists():
        raise ScenarioError([Problem(src, None, "", t("no such file", "en"))])
    if p.is_dir():
        raise ScenarioError([Problem(src, None, "", t("is a folder, not a {what} file", "en",
                                                      what=what))])
    from capsim.safeyaml import MAX_BYTES

    try:
        if not p.is_file():
            raise ScenarioError([Problem(src, None, "", f"is not a regular file (a {what} "
                                                        "is a YAML text file)")])
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise ScenarioError([Problem(
                src, None, "", t("the file is {size} MiB; capsim reads YAML files up to {max} "
                                 "MiB", None, size=f"{size / (1 << 20):.1f}",
                                 max=MAX_BYTES >> 20))])
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([Problem(src, None, "", f"cannot read it: {exc.strerror or exc}")]
                            ) from None
    except UnicodeDecodeError:
        raise ScenarioError(
            [Problem(src, None, "", f"is not a text file (a {what} is YAML text)")]
        ) from None


def parse_yaml_mapping(
    text: str, source: str, *, what: str = "scenario", needs: str = "name, duration and nodes"
) -> tuple[dict[str, Any], dict[Loc, int]]:
    """Parse YAML text that must be a mapping; returns the data and its line index."""
    if not text.strip():
        raise ScenarioError(
            [Problem(source, None, "", t("the file is empty; a {what} needs at least {needs}",
                                         "en", what=what, needs=needs))]
        )
    from capsim.safeyaml import load_yaml

    data, root = load_yaml(text, source)
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "nothing"
        raise ScenarioError(
            [Problem(source, 1, "",
                     f"a {what} is a YAML mapping of fields ({needs}, …), not {kind}")]
        )
    return data, line_index(root)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; every problem raises ``ScenarioError``."""
    return parse_scenario_text(read_text_file(path), source=str(path))


def parse_scenario_text(text: str, source: str = "<string>") -> Scenario:
    """Validate a scenario given as YAML text."""
    data, lines = parse_yaml_mapping(text, source)
    return parse_scenario(data, source=source, lines=lines)


#: Fields only a sweep file has (``capsim sweep``), and only a scenario file has.
SWEEP_ONLY = ("base", "set", "grid", "zip", "seeds", "plots")
SCENARIO_ONLY = ("duration", "nodes", "clients", "operations", "workload", "nemesis")


def other_kind(data: Mapping[str, Any], what: str) -> str | None:
    """Say so when a file is the other kind (a sweep given to ``run`` or the reverse)."""
    keys = {str(k) for k in data}
    if what == "scenario" and "base" in keys and keys & {"grid", "zip", "set", "seeds"} \
            and not keys & {"duration", "nodes"}:
        return t("this is a sweep file (it has base and {fields}), not a scenario; run it "
                 "with: capsim sweep FILE", None,
                 fields=", ".join(k for k in SWEEP_ONLY[1:] if k in keys))
    if what == "sweep" and "base" not in keys and keys & {"duration", "nodes"}:
        return t("this is a scenario file (it has {fields}), not a sweep; run it with: "
                 "capsim run FILE (a sweep names a base scenario and a grid or zip of values)",
                 None, fields=", ".join(k for k in SCENARIO_ONLY if k in keys))
    return None


def parse_scenario(
    data: Mapping[str, Any],
    source: str = "<python>",
    lines: Mapping[Loc, int] | None = None,
) -> Scenario:
    """Validate plain data (from YAML, JSON or Python) into a :class:`Scenario`."""
    lines = lines or {}
    kind = other_kind(data, "scenario")
    if kind is not None:
        raise ScenarioError([Problem(source, None, "", kind)])
    try:
        return Scenario.model_validate(dict(data))
    except _CrossCheckFailed as exc:
        raise ScenarioError(
            [Problem(source, line_for(lines, loc), dotted(loc), msg) for loc, msg in exc.problems]
        ) from None
    except ValidationError as exc:
        problems = [
            Problem(source, line_for(lines, tuple(e["loc"])), dotted(tuple(e["loc"])),
                    problem_message(e, Scenario, tuple(e["loc"])))
            for e in exc.errors()
        ]
        problems.sort(key=lambda p: p.line or 0)
        raise ScenarioError(_dedupe(problems)) from None


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[int | None, str, str]] = set()
    out = []
    for p in problems:
        k = (p.line, p.field, p.message)
        if k not in seen:
            seen.add(k)
            out.append(p)
    return out


def dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def problem_message(e: Any, root: type[BaseModel], loc: Loc) -> str:
    kind = e["type"]
    if kind == "extra_forbidden":
        fields = _fields_at(root, loc[:-1])
        if fields:
            return t("unknown field {name}; valid fields here: {fields}", "en",
                     name=repr(loc[-1]), fields=", ".join(fields))
        return t("unknown field {name}", "en", name=repr(loc[-1]))
    if kind == "missing":
        return t("this field is required", "en")
    msg = str(e["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    inp = e.get("input")
    if kind in {"float_parsing", "int_parsing", "string_type", "float_type", "int_type",
                "list_type", "dict_type", "bool_parsing", "bool_type", "model_type"}:
        msg = t("{message} (got {got})", "en", message=msg, got=_cut_value(inp))
    return _cut_text(msg)


def _cut_text(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fields_at(root: type[BaseModel], loc: Loc) -> list[str]:
    """The field names of the model found at ``loc``, for 'did you mean' hints."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(part, str) and isinstance(tp, type) and issubclass(tp, BaseModel):
            f = tp.model_fields.get(part)
            if f is None:
                return []
            tp = f.annotation
        elif isinstance(part, int):
            args = typing.get_args(tp)
            tp = args[0] if args else None
        else:
            # a dict key or a union member tag: step into the value type
            args = typing.get_args(tp)
            tp = _member_tagged(args, part) or (args[-1] if args else None)
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or name for name, f in tp.model_fields.items()]
    return []


def _member_tagged(members: tuple[Any, ...], tag: Any) -> Any:
    """The union member a discriminator tag names (``constant`` → Constant), if any."""
    for m in members:
        m = _unwrap(m)
        if (isinstance(m, type) and issubclass(m, BaseModel) and "dist" in m.model_fields
                and typing.get_args(m.model_fields["dist"].annotation) == (tag,)):
            return m
    return None


def _unwrap(tp: Any) -> Any:
    """Strip Optional/Annotated down to the one model or container type inside."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin is Union or str(origin) == "<class 'types.UnionType'>":
            models = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(models) == 1:
                tp = models[0]
                continue
            return tp
        return tp


def line_index(root: yaml.Node | None) -> dict[Loc, int]:
    """Map every path in the YAML document to its (1-based) line."""
    out: dict[Loc, int] = {}

    def walk(node: yaml.Node, path: Loc) -> None:
        out.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else str(k.value)
                sub: Loc = (*path, key)
                out[sub] = k.start_mark.line + 1
                walk(v, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return out


def line_for(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    for n in range(len(loc), -1, -1):
        prefix = loc[:n]
        if prefix in lines:
            return lines[prefix]
        # pydantic names aliased fields by alias; our YAML uses the alias too
    return None


def seed_scenario() -> Scenario:
    """The course's story, shipped inside the package (same as scenarios/partition.yaml)."""
    from importlib.resources import files

    text = files("capsim").joinpath("data/partition.yaml").read_text(encoding="utf-8")
    return parse_scenario_text(text, source="capsim/data/partition.yaml")


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema editors use to complete scenario files."""
    return Scenario.model_json_schema(by_alias=True)
