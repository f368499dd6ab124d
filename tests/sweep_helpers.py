"""A small sweep the sweep tests share: the seed story, a workload, 12 runs."""

from __future__ import annotations

from pathlib import Path

from tests.paths import SCENARIOS

SMALL = f"""\
name: small
description: seed story, two partition lengths
base: {SCENARIOS / 'partition.yaml'}
set:
  workload: {{rate: 10, reads: 0.5, clients: 2}}
zip:
  label.partition_length: [1, 4]
  nemesis.1.at: [2.0, 5.0]
seeds: 3
seed: 5
plots:
  - {{x: partition_length, y: availability.overall, hue: policy}}
"""


def write_small(folder: Path, text: str = SMALL, name: str = "small.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
