"""The nemesis: the scenario's fault schedule, applied in simulated time.

Like Maelstrom's nemesis it is a few lines: it only tells the network and
the nodes what to do at each time. :func:`fault_spans` turns the same
schedule into time spans for checks and plots.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy
from simpy.events import URGENT

from capsim.records import Fault
from capsim.scenario import NemesisEvent, Scenario
from capsim.sim.network import Network


class _FaultTime(simpy.Event):
    """A timeout that fires before every ordinary event due at the same instant.

    A fault scheduled at ``t`` is in force for everything else that happens
    at ``t`` (a request sent at the instant a node recovers reaches a live
    node), which is what the checks' spans ``start <= t < end`` assume.
    """

    def __init__(self, env: simpy.Environment, delay: float) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, URGENT, delay)


def nemesis_process(
    env: simpy.Environment,
    schedule: list[NemesisEvent],
    network: Network,
    nodes: list[str],
    crash: Callable[[str], None],
    recover: Callable[[str], None],
    pause: Callable[[str], None] | None = None,
    resume: Callable[[str], None] | None = None,
) -> Generator[simpy.Event, Any, None]:
    for ev in schedule:
        if ev.at > env.now:
            yield _FaultTime(env, ev.at - env.now)
        if ev.partition is not None:
            network.partition(ev.partition, nodes)
        elif ev.cut is not None:
            network.cut(ev.cut.from_, ev.cut.to)
        elif ev.heal:
            network.heal()
        elif ev.crash is not None:
            crash(ev.crash)
        elif ev.recover is not None:
            recover(ev.recover)
        elif ev.pause is not None and pause is not None:
            pause(ev.pause)
        elif ev.resume is not None and resume is not None:
            resume(ev.resume)


def partition_label(groups: list[list[str]]) -> str:
    return " | ".join(", ".join(g) for g in groups)


def fault_spans(scenario: Scenario) -> list[Fault]:
    """Every fault as a (start, end) span; open spans end with the run.

    A new partition replaces the one in force (as in Jepsen); cuts add up
    until a heal; a crash lasts until that node recovers, a pause until it
    resumes.
    """
    out: list[Fault] = []
    open_net: list[tuple[str, float, list[list[str]], str]] = []
    open_crash: dict[str, float] = {}
    open_pause: dict[str, float] = {}

    def close_net(t: float) -> None:
        for kind, start, groups, label in open_net:
            out.append(Fault(kind, start, t, groups, label))
        open_net.clear()

    for ev in scenario.nemesis:
        if ev.partition is not None:
            close_net(ev.at)
            named = {n for g in ev.partition for n in g}
            rest = [n for n in scenario.nodes if n not in named]
            groups = [list(g) for g in ev.partition] + ([rest] if rest else [])
            open_net.append(("partition", ev.at, groups, partition_label(groups)))
        elif ev.cut is not None:
            groups = [list(ev.cut.from_), list(ev.cut.to)]
            label = f"{', '.join(ev.cut.from_)} → {', '.join(ev.cut.to)} cut"
            open_net.append(("cut", ev.at, groups, label))
        elif ev.heal:
            close_net(ev.at)
        elif ev.crash is not None:
            open_crash.setdefault(ev.crash, ev.at)
        elif ev.recover is not None and ev.recover in open_crash:
            start = open_crash.pop(ev.recover)
            out.append(Fault("crash", start, ev.at, [[ev.recover]], f"{ev.recover} down"))
        elif ev.pause is not None:
            open_pause.setdefault(ev.pause, ev.at)
        elif ev.resume is not None and ev.resume in open_pause:
            start = open_pause.pop(ev.resume)
            out.append(Fault("pause", start, ev.at, [[ev.resume]], f"{ev.resume} paused"))
    close_net(scenario.duration)
    for node, start in open_pause.items():
        out.append(Fault("pause", start, scenario.duration, [[node]], f"{node} paused"))
    for node, start in open_crash.items():
        out.append(Fault("crash", start, scenario.duration, [[node]], f"{node} down"))
    out.sort(key=lambda f: (f.start, f.kind, f.label))
    return out
