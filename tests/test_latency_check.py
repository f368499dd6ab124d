"""The latency check's percentiles are numpy's (linear interpolation), without numpy."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from capsim.check.latency import percentile


@given(st.lists(st.floats(0, 1e3, allow_nan=False), min_size=1, max_size=200),
       st.sampled_from([0, 1, 50, 95, 99, 99.9, 100]))
def test_percentile_matches_numpy(xs: list[float], q: float) -> None:
    xs.sort()
    assert abs(percentile(xs, q) - float(np.percentile(xs, q))) <= 1e-9 * max(1.0, xs[-1])


def test_the_run_path_does_not_import_numpy() -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom capsim import simulate, seed_scenario\n"
            "simulate(seed_scenario(), policy='cp')\nprint('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.strip()
    assert out == "False"
