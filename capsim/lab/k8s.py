"""The building blocks of capsim's Kubernetes manifests: options, files, object metadata.

Both the course's manifests (:mod:`capsim.lab.manifests`) and the live
experiment's (:mod:`capsim.lab.live`) are made of these, so they live below
both and neither module needs the other's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from capsim._version import __version__
from capsim.lab.versions import DEFAULT_K8S

DEFAULT_OUT = Path("capsim-k8s")
DEFAULT_IMAGE = f"capsim:{__version__}"
DEFAULT_MYSQL_IP = "192.168.49.1"
"""The host as seen from minikube's docker driver (its network's gateway): the
docker chapter's ``mysql`` container, published on port 3306, is reachable there."""
PART_OF = {"app.kubernetes.io/part-of": "capsim-lab"}
"""On every object, so one ``kubectl delete -l app.kubernetes.io/part-of=capsim-lab`` cleans up."""
SCENARIO_RESOURCE = "data/partition.yaml"
ALTERNATIVES = "alternatives"
"""Sub-folder for files that replace (not add to) a top-level one; ``kubectl apply -f DIR``
does not descend into it."""

Obj = dict[str, Any]


@dataclass(frozen=True)
class Options:
    """What a teacher may change; everything else is the course's."""

    k8s: str = DEFAULT_K8S
    image: str = DEFAULT_IMAGE
    mysql_ip: str = DEFAULT_MYSQL_IP
    scenario: str = field(default="", repr=False)
    """The scenario YAML the Job runs; empty means the packaged seed story."""
    policies: tuple[str, ...] = ("cp", "ap")
    """The policies the live driver Jobs run the story under (``--policy``)."""

    @property
    def k8s_tuple(self) -> tuple[int, int]:
        major, minor = self.k8s.split(".")
        return int(major), int(minor)


@dataclass(frozen=True)
class ManifestFile:
    """One YAML file: a few objects that belong together, with a header saying why."""

    name: str
    """Relative path in the output folder, e.g. ``01-hello-minikube.yaml``."""
    about: str
    course: str
    """The course's (2018) commands this replaces, and today's equivalent."""
    objects: tuple[Obj, ...]
    notes: tuple[str, ...] = ()

    @property
    def apply(self) -> bool:
        """Top-level files are applied; alternatives are read and swapped in by hand."""
        return not self.name.startswith(ALTERNATIVES + "/")


def meta(name: str, **labels: str) -> Obj:
    return {"name": name, "labels": {**labels, **PART_OF}}


def seed_scenario_text() -> str:
    """The packaged seed story, so the Job runs the course's CAP example."""
    try:
        return files("capsim").joinpath(SCENARIO_RESOURCE).read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError):
        return _SEED_FALLBACK


_SEED_FALLBACK = """\
# The course's CAP story (copy used when capsim/data/partition.yaml is not installed).
name: seed-cap-story
description: G1 and G2 hold v0. The link breaks. alice writes v1 to G1; bob reads G2.
seed: 7
duration: 10.0
nodes: [G1, G2]
initial: {x: v0}
network:
  latency: {dist: constant, value: 0.05}
  loss: 0.0
policy: [cp, ap]
timeout: 1.0
nemesis:
  - {at: 1.0, partition: [[G1], [G2]]}
  - {at: 6.0, heal: true}
clients:
  - {name: alice, node: G1}
  - {name: bob, node: G2}
operations:
  - {at: 2.0, client: alice, write: {x: v1}}
  - {at: 3.0, client: bob, read: x}
  - {at: 8.0, client: bob, read: x}
"""



@dataclass(frozen=True)
class Settings:
    """Choices the student makes on the command line."""

    k8s: str = DEFAULT_K8S
    manifests_dir: str = str(DEFAULT_OUT)
    image: str = DEFAULT_IMAGE
    system_bin: bool = False
    """Install downloaded binaries in /usr/local/bin (the student said --yes), else ~/.local/bin."""


__all__ = [
    "ALTERNATIVES", "DEFAULT_IMAGE", "DEFAULT_MYSQL_IP", "PART_OF", "SCENARIO_RESOURCE",
    "ManifestFile", "Obj", "Options", "Settings", "meta", "seed_scenario_text",
]
