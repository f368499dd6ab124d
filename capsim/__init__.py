"""capsim: a CAP-theorem simulator that makes the trade-offs visible and testable.

The front door is :func:`simulate`; everything it returns is plain data::

    from capsim import simulate, seed_scenario
    result = simulate(seed_scenario(), policy="ap")
    result.checks["stale_reads"]["count"]   # 1: bob read v0 after v1 was acknowledged

Names are imported on first use (PEP 562), so ``capsim --help`` and
``capsim serve`` start without loading SimPy or numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from capsim._version import __version__

_EXPORTS: dict[str, str] = {
    "CapsimError": "capsim.errors",
    "Event": "capsim.history",
    "Fault": "capsim.records",
    "History": "capsim.history",
    "HistoryFormatError": "capsim.errors",
    "Message": "capsim.records",
    "Operation": "capsim.history",
    "Policy": "capsim.policies.base",
    "Problem": "capsim.errors",
    "Report": "capsim.report_html",
    "RunResult": "capsim.result",
    "Scenario": "capsim.scenario",
    "ScenarioError": "capsim.errors",
    "TraceEntry": "capsim.records",
    "check_linearizable": "capsim.check.linearizable",
    "load_scenario": "capsim.scenario",
    "parse_scenario": "capsim.scenario",
    "parse_scenario_text": "capsim.scenario",
    "run_checks": "capsim.check",
    "seed_scenario": "capsim.scenario",
    "simulate": "capsim.sim.simulate",
}

__all__ = [
    "POLICIES",
    "CapsimError",
    "Event",
    "Fault",
    "History",
    "HistoryFormatError",
    "Message",
    "Operation",
    "Policy",
    "Problem",
    "Report",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "TraceEntry",
    "__version__",
    "check_linearizable",
    "load_scenario",
    "parse_scenario",
    "parse_scenario_text",
    "run_checks",
    "seed_scenario",
    "simulate",
]


def __getattr__(name: str) -> Any:
    if name == "POLICIES":
        return importlib.import_module("capsim.policies").REGISTRY
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'capsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from capsim.check import run_checks
    from capsim.check.linearizable import check_linearizable
    from capsim.errors import CapsimError, HistoryFormatError, Problem, ScenarioError
    from capsim.history import Event, History, Operation
    from capsim.policies import REGISTRY as POLICIES
    from capsim.policies.base import Policy
    from capsim.records import Fault, Message, TraceEntry
    from capsim.report_html import Report
    from capsim.result import RunResult
    from capsim.scenario import (
        Scenario,
        load_scenario,
        parse_scenario,
        parse_scenario_text,
        seed_scenario,
    )
    from capsim.sim.simulate import simulate
