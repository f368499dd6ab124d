"""Live mode: the simulator's policies as real replica processes over TCP.

- :mod:`capsim.live.protocol` — the JSON Lines protocol (documented there);
- :mod:`capsim.live.server` — one replica (``capsim serve``);
- :mod:`capsim.live.proxy` — a fault-injection proxy per directed link;
- :mod:`capsim.live.driver` — ``capsim live``: start, drive, break, record, check.

Nothing here is imported by the simulator; the live runtime only reuses the
policies, the scenario model, the workload plan and the checks.
"""

from __future__ import annotations

from capsim.live.driver import LiveError, LiveRun, run_live

__all__ = ["LiveError", "LiveRun", "run_live"]
