"""Version floors and defaults the lab relies on, with the reason for each."""

from __future__ import annotations

import re

MIN_KERNEL: tuple[int, int] = (3, 10)
"""Docker CE needs Linux >= 3.10 (namespaces and cgroups as docker uses them; CentOS 7's kernel)."""

MIN_K8S: tuple[int, int] = (1, 23)
"""Oldest Kubernetes the manifests target: ``networking.k8s.io/v1`` Ingress (1.19),
``discovery.k8s.io/v1`` EndpointSlice (1.21) and Job ``ttlSecondsAfterFinished`` (1.23)
are all GA there; ``extensions/v1beta1`` Ingress, which the 2018 course used, is gone since 1.22."""

DEFAULT_K8S = "1.32"
"""The version the class cluster is started with (``minikube start --kubernetes-version``),
the kubectl package repository follows, and manifests are checked against by default."""

ENDPOINTS_DEPRECATED = (1, 33)
"""From 1.33 the API server warns on every use of ``v1 Endpoints``; EndpointSlice replaces it."""

_VERSION = re.compile(r"v?(\d+)\.(\d+)")


def parse_version(text: str) -> tuple[int, int] | None:
    """``"v1.32.4-dispatcher"`` -> ``(1, 32)``; ``"6.1.0-18-amd64"`` -> ``(6, 1)``; junk -> None."""
    m = _VERSION.search(text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def k8s_minor(text: str) -> str:
    """Normalise ``v1.31``, ``1.31``, ``1.31.2`` to ``1.31``; raise ``ValueError`` otherwise."""
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a Kubernetes version; write it like 1.32")
    return f"{int(m.group(1))}.{int(m.group(2))}"
