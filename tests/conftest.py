"""Shared test set-up: a headless matplotlib, and the hypothesis profiles."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

# --- hypothesis profiles -----------------------------------------------------------
# ci: derandomized (the same examples on every run, so CI never flakes on a
#     new draw) and enough examples that the CAP properties find real bugs
#     (tests/properties found two in the core at a few hundred); the whole
#     property suite stays well under 3 minutes on 2 cores.
# dev: fewer, random examples (a new sample every run), failures saved to the
#     local example database and replayed first next time.
# thorough: for long local runs before a release: pytest tests/properties
#     --hypothesis-profile=thorough (about ten times ci).
# The default is ci when the CI variable is set (as in .ci/run), else dev;
# HYPOTHESIS_PROFILE or --hypothesis-profile=NAME choose another.
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=500,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=100,
    deadline=2000,
    print_blob=True,
)
settings.register_profile(
    "thorough",
    max_examples=3000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


# --- running the suite as on a machine without a CJK font ---------------------------
# `pytest --no-cjk-font` (or CAPSIM_NO_CJK_FONT=1) makes capsim's own font lookup,
# capsim.plot.style.cjk_font(), find no Chinese font: the zh tests that need one skip
# with their reason, the others see the English fallback and its warning. CI runs the
# plot tests once this way (.ci/run) so a font-only failure cannot come back.
def pytest_addoption(parser):  # type: ignore[no-untyped-def]
    parser.addoption(
        "--no-cjk-font", action="store_true", default=False,
        help="run as if no CJK font were installed (sets CAPSIM_NO_CJK_FONT=1)",
    )


def pytest_configure(config):  # type: ignore[no-untyped-def]
    if config.getoption("--no-cjk-font", default=False):
        os.environ["CAPSIM_NO_CJK_FONT"] = "1"  # xdist workers inherit it
