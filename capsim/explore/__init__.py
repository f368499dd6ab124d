"""The explorer: every schedule of a small scenario, searched breadth-first.

A third runtime over the same sans-I/O policies (the simulator samples one
schedule, live mode lets the operating system pick one; this one tries them
all). :func:`explore` is the front door; ``capsim explore`` the command.
"""

from capsim.explore.run import Counterexample, ExploreResult, PropertyResult, explore

__all__ = ["Counterexample", "ExploreResult", "PropertyResult", "explore"]
