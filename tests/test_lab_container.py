"""The Containerfile, read as text: no Docker engine is needed (or available) in the tests."""

from __future__ import annotations

import json
import re

from capsim.lab import manifests
from tests.paths import ROOT

CONTAINERFILE = ROOT / "Containerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", CONTAINERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_base_image_and_command() -> None:
    ins = instructions()
    assert ins[0] == ("FROM", "python:3.11-slim")
    # No ENTRYPOINT, so `docker run IMAGE capsim run` runs exactly `capsim run`.
    assert "ENTRYPOINT" not in {k for k, _ in ins}
    cmd = [v for k, v in ins if k == "CMD"]
    assert len(cmd) == 1 and json.loads(cmd[0]) == ["capsim", "run"]


def test_installs_capsim_from_the_source_tree() -> None:
    ins = instructions()
    copies = [v.split() for k, v in ins if k == "COPY"]
    sources = [p for c in copies for p in c[:-1] if not p.startswith("--")]
    assert {"pyproject.toml", "README.md", "capsim"} <= set(sources)
    for src in sources:  # what the build copies exists in the repository
        assert (ROOT / src).exists(), src
    runs = " ".join(v for k, v in ins if k == "RUN")
    assert re.search(r"pip install\b.*\s\.(\s|$)", runs)


def test_runs_as_a_numeric_non_root_user_matching_the_job() -> None:
    """The Job sets runAsNonRoot, which Kubernetes can only check for a numeric USER."""
    users = [v for k, v in instructions() if k == "USER"]
    assert users and users[-1].isdigit() and int(users[-1]) != 0
    job = next(f for f in manifests.build(manifests.options()) if f.name == "06-capsim-job.yaml")
    pod = job.objects[1]["spec"]["template"]["spec"]
    assert pod["securityContext"] == {"runAsNonRoot": True}
    assert f"-t {manifests.DEFAULT_IMAGE}" in CONTAINERFILE.read_text()
