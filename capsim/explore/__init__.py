"""The explorer: every schedule of a small scenario, searched breadth-first.

A third runtime over the same sans-I/O policies (the simulator samples one
schedule, live mode lets the operating system pick one; this one tries them
all). :func:`explore` is the front door; ``capsim explore`` the command.

``capsim.explore(...)`` is the function, but ``capsim.explore`` is also this
package's name: once the package is imported, Python binds the name to the
module. So the module itself is made callable (it calls :func:`explore`),
and ``capsim.explore(scenario, "cp")`` works whichever of the two it finds.
"""

import sys
import types
from typing import Any

from capsim.explore.run import Counterexample, ExploreResult, PropertyResult, explore


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> ExploreResult:
        return explore(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["Counterexample", "ExploreResult", "PropertyResult", "explore"]
