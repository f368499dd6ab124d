"""``capsim lab``: get a student's machine ready for the course's hands-on chapters.

The pieces are independent and none of them needs root to *look*:

- :mod:`capsim.lab.doctor` checks the machine and says how to fix it;
- :mod:`capsim.lab.mirror` adds a registry mirror to docker's ``daemon.json``;
- :mod:`capsim.lab.manifests` writes the course's Kubernetes objects as current YAML;
- :mod:`capsim.lab.steps` lists (and on request runs) each chapter's commands.

External programs are always run as argument lists with a timeout
(:mod:`capsim.lab.runner`), never through a shell string.
"""

from __future__ import annotations

CHAPTERS: tuple[str, ...] = ("docker", "minikube", "services", "cap")
"""The course's hands-on chapters, in order; each needs what the previous one needed."""

__all__ = ["CHAPTERS"]
