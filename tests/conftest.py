"""Shared test set-up: a headless matplotlib, and the hypothesis profiles."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
