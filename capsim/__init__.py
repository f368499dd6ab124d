"""capsim: a CAP-theorem simulator that makes the trade-offs visible and testable.

The front door is :func:`simulate`; everything it returns is plain data::

    from capsim import simulate, seed_scenario
    result = simulate(seed_scenario(), policy="ap")
    result.checks["stale_reads"]["count"]   # 1: bob read v0 after v1 was acknowledged
"""

from capsim._version import __version__
from capsim.check import run_checks
from capsim.errors import CapsimError, HistoryFormatError, Problem, ScenarioError
from capsim.history import Event, History, Operation
from capsim.policies import REGISTRY as POLICIES
from capsim.policies import Policy
from capsim.result import Fault, Message, RunResult, TraceEntry
from capsim.scenario import (
    Scenario,
    load_scenario,
    parse_scenario,
    parse_scenario_text,
    seed_scenario,
)
from capsim.sim import simulate

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
    "RunResult",
    "Scenario",
    "ScenarioError",
    "TraceEntry",
    "__version__",
    "load_scenario",
    "parse_scenario",
    "parse_scenario_text",
    "run_checks",
    "seed_scenario",
    "simulate",
]
