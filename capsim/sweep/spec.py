"""Sweep files: a base scenario, the fields to vary, and the seeds per point.

A sweep is expanded and *every* expanded scenario validated when the file is
loaded, before anything runs: a typo found after an hour of runs is an hour
lost. Errors name the sweep file, the line of the offending key and the
field, like scenario errors do (the same ``line_index`` maps YAML paths to
lines).

Each run's seed is derived from the sweep's seed, the point's values and the
replicate number through SHA-256 of their canonical JSON, never Python's
``hash()`` (salted per process) and never the order in which workers finish,
so any executor and any worker count give the same rows. The policy is left
out of the seed on purpose: every policy meets the same workloads (common
random numbers), so a difference between policies is not noise from drawing
different arrivals.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from capsim._version import __version__
from capsim.errors import Problem, ScenarioError
from capsim.i18n import t
from capsim.scenario import (
    Loc,
    Scenario,
    dotted,
    line_for,
    load_scenario,
    parse_scenario,
    parse_yaml_mapping,
    problem_message,
    read_text_file,
)

LABEL_PREFIX = "label."
"""Axes named ``label.NAME`` add a column ``NAME`` to the results and change nothing else."""

RESERVED_COLUMNS = ("run", "point", "policy", "replicate", "seed")
"""Columns every results table has; a label may not take one of these names."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MAX_PROBLEMS = 20


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class PlotSpec(_Model):
    """A picture drawn after the sweep: mean ± 95% CI of ``y`` against ``x``, one line per hue."""

    x: str
    y: str | list[str] = "availability.overall"
    hue: str | None = "policy"

    @property
    def ys(self) -> list[str]:
        return [self.y] if isinstance(self.y, str) else list(self.y)


class SweepFile(_Model):
    """The top level of a sweep file, as written (axes are checked by hand for clearer errors)."""

    name: str | None = None
    description: str = ""
    base: str | dict[str, Any]
    set_: dict[str, Any] = Field(default={}, alias="set")
    grid: dict[str, Any] = {}
    zip_: Any = Field(default=None, alias="zip")
    seeds: int = Field(default=1, ge=1)
    seed: int = 0
    plots: list[PlotSpec] = []


@dataclass(frozen=True)
class Axis:
    """One thing a sweep varies: a scenario field (dotted path) or a label column."""

    path: str
    values: tuple[Any, ...]
    section: str
    line: int | None

    @property
    def is_label(self) -> bool:
        return self.path.startswith(LABEL_PREFIX)

    @property
    def column(self) -> str:
        """The results column: the dotted path, or the label's name."""
        return self.path[len(LABEL_PREFIX):] if self.is_label else self.path

    @property
    def keys(self) -> tuple[str, ...]:
        return split_path(self.path)

    @property
    def where(self) -> str:
        return f"{self.section}.{self.path}"


@dataclass(frozen=True)
class Point:
    """One combination of axis values and the validated scenario it gives."""

    index: int
    values: dict[str, Any]
    scenario: Scenario


@dataclass(frozen=True)
class Run:
    """One simulation: a point, a policy and a replicate, with its derived seed.

    ``run_id`` fingerprints everything that determines the result (the
    expanded scenario, the policy, the seed and capsim's version): ``--resume``
    reuses a finished row only when its fingerprint matches.
    """

    index: int
    point: Point
    policy: str
    replicate: int
    seed: int
    run_id: str


@dataclass(frozen=True)
class Sweep:
    """A validated, expanded sweep: every point and every run, in a fixed order."""

    name: str
    description: str
    source: str
    seed: int
    seeds: int
    axes: tuple[tuple[Axis, ...], ...]
    base: Scenario
    points: tuple[Point, ...]
    runs: tuple[Run, ...]
    plots: tuple[PlotSpec, ...] = ()
    text: str = ""
    policies: tuple[str, ...] = field(default=())

    @property
    def columns(self) -> list[str]:
        """The parameter columns of the results, in axis order."""
        return [a.column for group in self.axes for a in group]

    def describe(self, lang: str | None = "en") -> str:
        """``12 points × 2 policies × 20 seeds = 480 runs``, for --dry-run and the log."""
        pol, pts = len(self.policies), len(self.points)
        if self.is_policy_axis:
            head = t("{n} points (policy is an axis)", lang, n=pts)
        else:
            head = t("1 point", lang) if pts == 1 else t("{n} points", lang, n=pts)
        parts = [head]
        if not self.is_policy_axis:
            parts.append(t("1 policy", lang) if pol == 1 else t("{n} policies", lang, n=pol))
        parts.append(t("1 seed", lang) if self.seeds == 1 else t("{n} seeds", lang, n=self.seeds))
        return t("{parts} = {n} runs", lang, parts=" × ".join(parts), n=len(self.runs))

    @property
    def is_policy_axis(self) -> bool:
        return "policy" in self.columns


# --- paths -------------------------------------------------------------------


def split_path(path: str) -> tuple[str, ...]:
    """``nemesis[1].at`` or ``nemesis.1.at`` -> ``("nemesis", "1", "at")``."""
    norm = re.sub(r"\[(\d+)\]", r".\1", path)
    return tuple(norm.split("."))


class _PathError(Exception):
    pass


def set_path(data: dict[str, Any], keys: Sequence[str], value: Any) -> None:
    """Set ``data[k0][k1]…`` to ``value``; digits index lists, missing mappings are made.

    A field that holds ``null`` (e.g. ``workload``) becomes a mapping when a
    path goes through it, so ``workload.rate`` works on a scenario without a
    workload; a list index must already exist, since a hole in a list of
    events has no meaning.
    """
    cur: Any = data
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        here = ".".join(keys[:depth]) or "the scenario"
        if isinstance(cur, dict):
            if last:
                cur[key] = copy.deepcopy(value)
                return
            if cur.get(key) is None:
                cur[key] = {}
            cur = cur[key]
        elif isinstance(cur, list):
            if not key.isdigit():
                raise _PathError(
                    f"{here} is a list; index it with a number (e.g. {here}.0), not {key!r}"
                )
            i = int(key)
            if i >= len(cur):
                span = f"0–{len(cur) - 1}" if cur else "none"
                raise _PathError(
                    f"{here} has {len(cur)} entr{'ies' if len(cur) != 1 else 'y'} "
                    f"(indices {span}); index {i} is out of range"
                )
            if last:
                cur[i] = copy.deepcopy(value)
                return
            cur = cur[i]
        else:
            raise _PathError(f"{here} is a value ({cur!r}), not a mapping or a list")


# --- seeds ---------------------------------------------------------------------


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no spaces: equal data, equal text, on every machine."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def derive_seed(sweep_seed: int, point: Mapping[str, Any], replicate: int) -> int:
    """The seed of one run: SHA-256 of the sweep seed, the point (less policy), the replicate."""
    values = {k: v for k, v in point.items() if k != "policy"}
    text = canonical_json({"seed": sweep_seed, "point": values, "replicate": replicate})
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # 63 bits: fits int64 columns


def run_fingerprint(scenario: Scenario | str, policy: str, seed: int) -> str:
    """What determines a run's result, hashed (for --resume).

    ``scenario`` may be given as its canonical JSON already, so a point's
    many runs dump it once.
    """
    spec = scenario if isinstance(scenario, str) else canonical_json(
        scenario.model_dump(mode="json", by_alias=True))
    text = canonical_json({"v": __version__, "policy": policy, "seed": seed}) + spec
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


# --- loading -------------------------------------------------------------------


def load_sweep(path: str | Path) -> Sweep:
    """Read, expand and validate a sweep file; every problem raises ``ScenarioError``."""
    p = Path(path)
    text = read_text_file(p, what="sweep")
    src = str(path)
    return parse_sweep_text(text, source=src, base_dir=p.parent, default_name=p.stem)


def parse_sweep_text(
    text: str,
    source: str = "<string>",
    base_dir: str | Path = ".",
    default_name: str = "sweep",
) -> Sweep:
    """Validate a sweep given as YAML text; ``base: file`` is relative to ``base_dir``."""
    data, lines = parse_yaml_mapping(text, source, what="sweep", needs="base and grid (or zip)")
    return parse_sweep(data, source=source, lines=lines, base_dir=base_dir,
                       default_name=default_name, text=text)


def parse_sweep(
    data: Mapping[str, Any],
    source: str = "<python>",
    lines: Mapping[Loc, int] | None = None,
    base_dir: str | Path = ".",
    default_name: str = "sweep",
    text: str = "",
) -> Sweep:
    """Validate plain data into a :class:`Sweep`: expand it and validate every point."""
    lines = lines or {}

    def at(*loc: str | int) -> int | None:
        return line_for(lines, loc)

    try:
        spec = SweepFile.model_validate(dict(data))
    except ValidationError as exc:
        problems = [
            Problem(source, at(*e["loc"]), dotted(tuple(e["loc"])),
                    problem_message(e, SweepFile, tuple(e["loc"])))
            for e in exc.errors()
        ]
        raise ScenarioError(problems) from None

    name = spec.name if spec.name is not None else default_name
    if not _NAME.match(name):
        field_ = "name" if spec.name is not None else ""
        raise ScenarioError([Problem(
            source, at("name") if spec.name is not None else None, field_,
            f"sweep name {name!r} may use letters, digits, '.', '_' and '-' "
            "(it names the results folder)",
        )])

    order = [k for k in data if k in ("grid", "zip")]
    axes = _axes(spec, data, order, source, at)
    base = _base(spec, source, lines, Path(base_dir), name)
    base = _apply_set(spec, base, source, at)
    points = _points(axes, base, source, at)
    _check_plots(spec, axes, source, at)

    runs: list[Run] = []
    policies: list[str] = []
    for pt in points:
        spec_json = canonical_json(pt.scenario.model_dump(mode="json", by_alias=True))
        for pol in pt.scenario.policies:
            if pol not in policies:
                policies.append(pol)
            for r in range(spec.seeds):
                seed = derive_seed(spec.seed, pt.values, r)
                runs.append(Run(len(runs), pt, pol, r, seed,
                                run_fingerprint(spec_json, pol, seed)))
    check_supported(runs, axes, source, at)
    return Sweep(
        name=name,
        description=spec.description,
        source=source,
        seed=spec.seed,
        seeds=spec.seeds,
        axes=axes,
        base=base,
        points=tuple(points),
        runs=tuple(runs),
        plots=tuple(spec.plots),
        text=text,
        policies=tuple(policies),
    )


def _axis_values(
    raw: Any, where: str, source: str, line: int | None
) -> tuple[Any, ...]:
    """A list of values, or ``{start, stop, step}`` (stop included when a step lands on it)."""
    if isinstance(raw, list):
        if not raw:
            raise ScenarioError([Problem(source, line, where, "an empty list of values; "
                                         "give at least one")])
        return tuple(raw)
    if isinstance(raw, dict) and set(raw) <= {"start", "stop", "step"} and raw:
        missing = [k for k in ("start", "stop") if k not in raw]
        if missing:
            raise ScenarioError([Problem(source, line, where, f"a range needs start and stop "
                                         f"(missing {', '.join(missing)}); step defaults to 1")])
        return _range(raw, where, source, line)
    got = f"a mapping with keys {', '.join(map(str, raw))}" if isinstance(raw, dict) else repr(raw)
    raise ScenarioError([Problem(
        source, line, where,
        f"give a list of values ([1, 2, 3]) or a range ({{start: 1, stop: 3, step: 1}}), "
        f"not {got}",
    )])


def _range(raw: Mapping[str, Any], where: str, source: str, line: int | None
           ) -> tuple[Any, ...]:
    nums: dict[str, Decimal] = {}
    for k in ("start", "stop", "step"):
        v = raw.get(k, 1)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ScenarioError([Problem(source, line, f"{where}.{k}",
                                         f"must be a number (got {v!r})")])
        try:
            nums[k] = Decimal(str(v))
        except InvalidOperation:  # pragma: no cover - nan/inf from YAML
            raise ScenarioError([Problem(source, line, f"{where}.{k}",
                                         f"must be a finite number (got {v!r})")]) from None
        if not nums[k].is_finite():
            raise ScenarioError([Problem(source, line, f"{where}.{k}",
                                         f"must be a finite number (got {v!r})")])
    start, stop, step = nums["start"], nums["stop"], nums["step"]
    if step <= 0:
        raise ScenarioError([Problem(source, line, f"{where}.step",
                                     f"must be greater than 0 (got {raw.get('step')!r})")])
    if stop < start:
        raise ScenarioError([Problem(source, line, f"{where}.stop",
                                     f"stop ({raw['stop']}) is before start ({raw['start']})")])
    n = int((stop - start) / step) + 1
    if n > 100_000:
        raise ScenarioError([Problem(source, line, where, f"a range of {n} values; "
                                     "that is surely a mistake (check step)")])
    as_int = all(isinstance(raw.get(k, 1), int) for k in ("start", "stop", "step"))
    vals = [start + i * step for i in range(n)]
    return tuple(int(v) if as_int else float(v) for v in vals)


def _axes(
    spec: SweepFile, data: Mapping[str, Any], order: list[str], source: str,
    at: Any,
) -> tuple[tuple[Axis, ...], ...]:
    groups: list[tuple[Axis, ...]] = []
    for section in order:
        if section == "grid":
            for path, raw in spec.grid.items():
                _check_path(path, f"grid.{path}", source, at("grid", path))
                vals = _axis_values(raw, f"grid.{path}", source, at("grid", path))
                groups.append((Axis(path, vals, "grid", at("grid", path)),))
        else:
            raw_zip = data["zip"]
            zips: list[tuple[str | int, ...]]
            if isinstance(raw_zip, dict):
                zips = [("zip",)]
                blocks = [raw_zip]
            elif isinstance(raw_zip, list) and all(isinstance(b, dict) for b in raw_zip):
                zips = [("zip", i) for i in range(len(raw_zip))]
                blocks = list(raw_zip)
            else:
                raise ScenarioError([Problem(
                    source, at("zip"), "zip",
                    "give a mapping of equally long lists ({a: [1, 2], b: [3, 4]}), or a list "
                    "of such mappings",
                )])
            for loc, block in zip(zips, blocks, strict=True):
                sec = dotted(loc)
                group: list[Axis] = []
                for path, raw in block.items():
                    line = at(*loc, path)
                    _check_path(path, f"{sec}.{path}", source, line)
                    vals = _axis_values(raw, f"{sec}.{path}", source, line)
                    group.append(Axis(path, vals, sec, line))
                if not group:
                    raise ScenarioError([Problem(source, at(*loc), sec, "an empty zip block")])
                lens = {a.path: len(a.values) for a in group}
                if len(set(lens.values())) > 1:
                    detail = ", ".join(f"{p} has {n}" for p, n in lens.items())
                    raise ScenarioError([Problem(
                        source, at(*loc), sec,
                        f"zipped lists must have equal lengths ({detail})",
                    )])
                groups.append(tuple(group))
    _check_overlaps([a for g in groups for a in g], source)
    return tuple(groups)


def _check_path(path: str, where: str, source: str, line: int | None) -> None:
    if not isinstance(path, str) or not path:
        raise ScenarioError([Problem(source, line, where, "a field path must be text")])
    keys = split_path(path)
    if any(k == "" for k in keys):
        raise ScenarioError([Problem(source, line, where, f"{path!r} has an empty part; write "
                                     "fields as nemesis.1.at or network.latency.value")])
    if path.startswith(LABEL_PREFIX):
        col = path[len(LABEL_PREFIX):]
        if not col or col in RESERVED_COLUMNS:
            raise ScenarioError([Problem(source, line, where, f"a label needs a name other "
                                         f"than {', '.join(RESERVED_COLUMNS)}")])
        return
    if keys[0] in ("seed",):
        raise ScenarioError([Problem(source, line, where, "each run's seed comes from the "
                                     "sweep (its `seed:` and `seeds:`); do not vary seed")])
    if keys[0] in ("name",):
        raise ScenarioError([Problem(source, line, where, "varying the scenario's name "
                                     "changes nothing; use a label.NAME axis for a column")])


def _check_overlaps(axes: list[Axis], source: str) -> None:
    seen: dict[tuple[str, ...], Axis] = {}
    for a in axes:
        for k, other in seen.items():
            shorter = min(len(k), len(a.keys))
            if k[:shorter] == a.keys[:shorter]:
                raise ScenarioError([Problem(
                    source, a.line, a.where,
                    f"also varied by {other.where} (line {other.line}); vary each field once",
                )])
        seen[a.keys] = a


def _base(spec: SweepFile, source: str, lines: Mapping[Loc, int], base_dir: Path,
          name: str) -> Scenario:
    if isinstance(spec.base, str):
        path = Path(spec.base)
        if not path.is_absolute():
            path = base_dir / path
        if not path.exists():
            raise ScenarioError([Problem(source, line_for(lines, ("base",)), "base",
                                         f"no scenario file {str(path)!r} (a relative base is "
                                         "read from the sweep file's folder)")])
        return load_scenario(path)
    data = dict(spec.base)
    data.setdefault("name", name)
    sub = {loc[1:]: ln for loc, ln in lines.items() if loc[:1] == ("base",) and len(loc) > 1}
    try:
        return parse_scenario(data, source=source, lines=sub)
    except ScenarioError as exc:
        raise ScenarioError([
            Problem(p.source, p.line if p.line is not None else line_for(lines, ("base",)),
                    f"base.{p.field}" if p.field else "base", p.message)
            for p in exc.problems
        ]) from None


def _apply_set(spec: SweepFile, base: Scenario, source: str, at: Any) -> Scenario:
    if not spec.set_:
        return base
    data = base.model_dump(mode="json", by_alias=True)
    where: dict[str, tuple[str, int | None]] = {}
    for path, value in spec.set_.items():
        line = at("set", path)
        _check_path(path, f"set.{path}", source, line)
        if path.startswith(LABEL_PREFIX):
            raise ScenarioError([Problem(source, line, f"set.{path}", "a label is a column of "
                                         "the results; put it in grid or zip")])
        try:
            set_path(data, split_path(path), value)
        except _PathError as exc:
            raise ScenarioError([Problem(source, line, f"set.{path}", str(exc))]) from None
        where[dotted(_loc(path))] = (f"set.{path}", line)
    try:
        return parse_scenario(data, source=source)
    except ScenarioError as exc:
        raise ScenarioError(_map_problems(exc.problems, where, source, at("set"), "")) from None


def _loc(path: str) -> Loc:
    return tuple(int(k) if k.isdigit() else k for k in split_path(path))


def _map_problems(
    problems: Sequence[Problem],
    where: Mapping[str, tuple[str, int | None]],
    source: str,
    fallback_line: int | None,
    context: str,
) -> list[Problem]:
    """Point a scenario problem at the sweep key that caused it (longest matching path)."""
    out: list[Problem] = []
    for p in problems:
        best = None
        for name, (field_, line) in where.items():
            inside = p.field == name or p.field.startswith((name + ".", name + "["))
            around = bool(p.field) and name.startswith((p.field + ".", p.field + "["))
            if (inside or around) and (best is None or len(name) > len(best[0])):
                best = (name, field_, line)
        if best is not None:
            detail = "" if p.field == best[0] else f" (scenario field {p.field})"
            out.append(Problem(source, best[2], best[1], f"{p.message}{detail}{context}"))
        else:
            fld = p.field or "base"
            out.append(Problem(source, fallback_line, fld, f"{p.message}{context}"))
    return out


def _points(
    axes: tuple[tuple[Axis, ...], ...], base: Scenario, source: str, at: Any
) -> list[Point]:
    base_data = base.model_dump(mode="json", by_alias=True)
    fallback = at("grid") or at("zip")
    points: list[Point] = []
    # The same bad value breaks every point it is in: report it once, with
    # the first point it broke and how many more.
    found: dict[tuple[int | None, str, str], list[Any]] = {}
    bad = 0
    for combo in itertools.product(*[range(len(g[0].values)) for g in axes]):
        values: dict[str, Any] = {}
        data = copy.deepcopy(base_data)
        where: dict[str, tuple[str, int | None]] = {}
        failed: list[Problem] = []
        for group, i in zip(axes, combo, strict=True):
            for a in group:
                values[a.column] = a.values[i]
                if a.is_label:
                    continue
                where[dotted(_loc(a.path))] = (a.where, a.line)
                try:
                    set_path(data, a.keys, a.values[i])
                except _PathError as exc:
                    failed.append(Problem(source, a.line, a.where, str(exc)))
        if not failed:
            try:
                sc = parse_scenario(data, source=source)
            except ScenarioError as exc:
                failed = _map_problems(exc.problems, where, source, fallback, "")
            else:
                points.append(Point(len(points), values, sc))
                continue
        bad += 1
        ctx = ", ".join(f"{k}={v!r}" for k, v in values.items())
        for p in failed:
            found.setdefault((p.line, p.field, p.message), []).append(ctx)
    if found:
        problems = []
        for (line, fld, msg), where_ in found.items():
            more = f"; and {len(where_) - 1} more point{'s' if len(where_) > 2 else ''}" if (
                len(where_) > 1) else ""
            problems.append(Problem(source, line, fld, f"{msg} (at {where_[0]}{more})"))
        shown = problems[:_MAX_PROBLEMS]
        if len(problems) > _MAX_PROBLEMS:
            shown.append(Problem(source, None, "", f"… and {len(problems) - _MAX_PROBLEMS} "
                                 "more problems"))
        if bad > 1:
            shown.append(Problem(source, None, "", f"{bad} of {bad + len(points)} points give "
                                 "an invalid scenario"))
        raise ScenarioError(shown)
    return points


def _check_plots(spec: SweepFile, axes: tuple[tuple[Axis, ...], ...], source: str,
                 at: Any) -> None:
    cols = {a.column for g in axes for a in g} | set(RESERVED_COLUMNS)
    for i, p in enumerate(spec.plots):
        for key, val in (("x", p.x), ("hue", p.hue)):
            if val is not None and val not in cols:
                raise ScenarioError([Problem(
                    source, at("plots", i, key), f"plots[{i}].{key}",
                    f"{val!r} is not a column of this sweep; columns: {', '.join(sorted(cols))}",
                )])


def check_supported(runs: Sequence[Run], axes: tuple[tuple[Axis, ...], ...], source: str,
                     at: Any) -> None:
    """A policy that cannot serve the workload's ops fails now, not after half the runs."""
    from capsim.policies import REGISTRY
    from capsim.sim.simulate import check_supported as check

    axis = next((a for g in axes for a in g if a.column == "policy"), None)
    where, line = (axis.where, axis.line) if axis else ("base.policy", at("base", "policy"))
    seen: set[tuple[int, str]] = set()
    for run in runs:
        key = (run.point.index, run.policy)
        if key in seen:
            continue
        seen.add(key)
        try:
            check(run.point.scenario, REGISTRY[run.policy], run.policy)
        except ScenarioError as exc:
            vals = ", ".join(f"{k}={v!r}" for k, v in run.point.values.items())
            ctx = f" (at {vals})" if vals else ""
            raise ScenarioError([Problem(source, line, where, f"{p.message}{ctx}")
                                 for p in exc.problems]) from None
