"""``capsim lab steps minikube`` / ``lab fetch``: a domestic mirror, a checksum, a place on PATH.

The network is faked: an opener that serves bytes per URL (or raises the
error urllib would). Nothing here touches the internet.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import urllib.error
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app
from capsim.lab import download
from capsim.lab.doctor import render
from tests.lab_fakes import ROCKY9, UBUNTU_2204, context

runner = CliRunner()
BINARY = b"\x7fELF pretend minikube " * 1000
SHA = hashlib.sha256(BINARY).hexdigest()
MINIKUBE_UP = ("https://github.com/kubernetes/minikube/releases/download/"
               f"{download.MINIKUBE_VERSION}/minikube-linux-amd64")
MINIKUBE_MIRROR = "https://files.m.daocloud.io/github.com/kubernetes/minikube/releases/download/" \
                  f"{download.MINIKUBE_VERSION}/minikube-linux-amd64"


class FakeNet:
    """Serves ``files`` by URL; any other URL is unreachable. Records what was asked."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.asked: list[str] = []

    def __call__(self, url: str) -> io.BytesIO:
        self.asked.append(url)
        if url not in self.files:
            raise urllib.error.URLError("Connection timed out")
        return io.BytesIO(self.files[url])


def _fetch(net: FakeNet, dest: Path, tool: str = "minikube") -> tuple[Path, list[str]]:
    said: list[str] = []
    path = download.fetch(tool, dest, arch="amd64", k8s="1.32", opener=net, echo=said.append)
    return path, said


def test_the_mirror_comes_first_and_the_upstream_url_is_the_fallback() -> None:
    urls = [s.url for s in download.sources("minikube", "amd64", "1.32")]
    assert urls == [MINIKUBE_MIRROR, MINIKUBE_UP]
    kubectl = [s.url for s in download.sources("kubectl", "arm64", "1.31")]
    assert kubectl == [
        "https://files.m.daocloud.io/dl.k8s.io/release/v1.31.0/bin/linux/arm64/kubectl",
        "https://dl.k8s.io/release/v1.31.0/bin/linux/arm64/kubectl",
    ]


def test_a_good_download_from_the_mirror_is_installed_executable(tmp_path: Path) -> None:
    net = FakeNet({MINIKUBE_MIRROR + ".sha256": f"{SHA}  minikube-linux-amd64\n".encode(),
                   MINIKUBE_MIRROR: BINARY})
    path, said = _fetch(net, tmp_path / "bin")
    assert path == tmp_path / "bin" / "minikube"
    assert path.read_bytes() == BINARY
    assert os.access(path, os.X_OK)
    assert net.asked == [MINIKUBE_MIRROR + ".sha256", MINIKUBE_MIRROR]  # upstream never asked
    assert f"sha256 {SHA} matches {MINIKUBE_MIRROR}.sha256" in said[-1]
    assert [p.name for p in (tmp_path / "bin").iterdir()] == ["minikube"]  # no .part left


def test_an_unreachable_mirror_falls_back_to_upstream_with_upstream_checksum(
    tmp_path: Path,
) -> None:
    net = FakeNet({MINIKUBE_UP + ".sha256": SHA.encode(), MINIKUBE_UP: BINARY})
    path, said = _fetch(net, tmp_path)
    assert path.read_bytes() == BINARY
    assert net.asked == [MINIKUBE_MIRROR + ".sha256", MINIKUBE_UP + ".sha256", MINIKUBE_UP]
    assert any("DaoCloud mirror failed: Connection timed out" in s for s in said)


def test_a_corrupt_download_is_never_installed(tmp_path: Path) -> None:
    """The mirror's file does not match the mirror's checksum: try upstream; both bad: refuse."""
    bad = BINARY[:-1] + b"X"
    net = FakeNet({MINIKUBE_MIRROR + ".sha256": SHA.encode(), MINIKUBE_MIRROR: bad,
                   MINIKUBE_UP + ".sha256": SHA.encode(), MINIKUBE_UP: bad})
    old = tmp_path / "minikube"
    old.write_bytes(b"the student's old minikube")
    with pytest.raises(download.DownloadError) as err:
        _fetch(net, tmp_path)
    assert "checksum mismatch" in str(err.value) and "nothing was changed" in str(err.value)
    assert old.read_bytes() == b"the student's old minikube"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["minikube"]


def test_a_checksum_file_without_a_checksum_is_refused(tmp_path: Path) -> None:
    net = FakeNet({MINIKUBE_MIRROR + ".sha256": b"<html>rate limited</html>",
                   MINIKUBE_MIRROR: BINARY})
    with pytest.raises(download.DownloadError, match="does not hold a sha256 checksum"):
        _fetch(net, tmp_path)
    assert not (tmp_path / "minikube").exists()


def test_capsim_lab_fetch_installs_into_the_folder_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubectl_mirror = "https://files.m.daocloud.io/dl.k8s.io/release/v1.32.0/bin/linux/amd64/kubectl"
    net = FakeNet({kubectl_mirror + ".sha256": SHA.encode(), kubectl_mirror: BINARY})
    monkeypatch.setattr(download, "_open", net)
    monkeypatch.setattr("capsim.lab.commands._go_arch", lambda machine: "amd64")
    monkeypatch.setenv("PATH", "/usr/bin")
    res = runner.invoke(app, ["lab", "fetch", "kubectl", "--to", str(tmp_path / "bin")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "bin" / "kubectl").read_bytes() == BINARY
    assert f"is not on your PATH; add it: export PATH=\"{tmp_path / 'bin'}:$PATH\"" in res.output
    # all sources down: exit 2, one clear message, no traceback
    monkeypatch.setattr(download, "_open", FakeNet({}))
    res = runner.invoke(app, ["lab", "fetch", "minikube", "--to", str(tmp_path / "b2")])
    assert res.exit_code == 2
    assert "error: could not install minikube; nothing was changed" in res.output
    assert "Traceback" not in res.output


def test_steps_minikube_names_the_mirror_the_checksum_and_the_place_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os_release = tmp_path / "os-release"
    os_release.write_text(UBUNTU_2204, encoding="utf-8")
    monkeypatch.setenv("CAPSIM_OS_RELEASE", str(os_release))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    res = runner.invoke(app, ["lab", "steps", "minikube"])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "-m capsim lab fetch minikube --to " in out and "/.local/bin" in out
    assert "files.m.daocloud.io" in out
    assert "fallback: https://github.com/kubernetes/minikube" in out
    assert ".sha256 file of the same source" in out
    assert "is not on your PATH" in out
    assert "curl -fL -o" not in out  # the binary no longer lands in the current folder
    res = runner.invoke(app, ["lab", "steps", "minikube", "--yes"])
    assert "lab fetch minikube --to /usr/local/bin" in res.output


def test_steps_minikube_execute_runs_the_fetch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--execute with --from at the fetch step: the argv is capsim itself, run for real."""
    from capsim.lab import steps as s

    os_release = tmp_path / "os-release"
    os_release.write_text(ROCKY9, encoding="utf-8")
    ctx = context(os_release)
    ch = s.chapter("minikube", ctx, s.Settings())
    fetches = [c for c in ch.steps if "fetch" in c.argv]
    assert [c.argv[c.argv.index("fetch") + 1] for c in fetches] == ["minikube"]
    assert fetches[0].argv[:3] == ("/opt/venv/bin/python", "-m", "capsim")
    assert not fetches[0].privileged
    system = s.chapter("minikube", ctx, s.Settings(system_bin=True))
    fetch = next(c for c in system.steps if "fetch" in c.argv)
    assert fetch.privileged and fetch.argv[0] == "sudo" and "/usr/local/bin" in fetch.argv


def test_kubectl_without_a_package_repository_is_fetched_too(tmp_path: Path) -> None:
    from capsim.lab import steps as s

    os_release = tmp_path / "os-release"
    os_release.write_text('ID=alpine\nNAME="Alpine Linux"\nVERSION_ID=3.20\n', encoding="utf-8")
    ch = s.chapter("minikube", context(os_release), s.Settings())
    tools = [c.argv[c.argv.index("fetch") + 1] for c in ch.steps if "fetch" in c.argv]
    assert tools == ["kubectl", "minikube"]


def test_doctor_names_the_chapter_the_student_asked_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from capsim.lab.doctor import diagnose

    os_release = tmp_path / "os-release"
    os_release.write_text(ROCKY9, encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing installed
    daemon = tmp_path / "daemon.json"
    daemon.write_text(json.dumps({}), encoding="utf-8")
    ctx = context(os_release)
    text = render(diagnose("cap", ctx=ctx, daemon_json=daemon))
    tail = text.splitlines()[-5:]
    assert tail[0].startswith("Not ready for chapter 'cap':")
    assert tail[1] == ("Chapter 'cap' builds on the 'docker' and 'minikube' chapters; "
                       "set those up first:")
    assert tail[2:] == ["  capsim lab steps docker", "  capsim lab steps minikube",
                        "then chapter 'cap' itself: capsim lab steps cap"]
    text = render(diagnose("minikube", ctx=ctx, daemon_json=daemon))
    assert text.splitlines()[-1] == "then chapter 'minikube' itself: capsim lab steps minikube"
    text = render(diagnose("docker", ctx=ctx, daemon_json=daemon))
    assert text.splitlines()[-1] == "Chapter 'docker''s commands in order: capsim lab steps docker"


def test_capsim_lab_fetch_in_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    net = FakeNet({MINIKUBE_UP + ".sha256": SHA.encode(), MINIKUBE_UP: BINARY})
    monkeypatch.setattr(download, "_open", net)
    monkeypatch.setattr("capsim.lab.commands._go_arch", lambda machine: "amd64")
    monkeypatch.setenv("PATH", "/usr/bin")
    res = runner.invoke(app, ["lab", "fetch", "minikube", "--to", str(tmp_path), "--lang", "zh"])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "minikube：尝试DaoCloud 镜像 https://files.m.daocloud.io/" in out
    assert "DaoCloud 镜像失败：Connection timed out" in out
    assert f"与 {MINIKUBE_UP}.sha256 一致；已安装到 {tmp_path / 'minikube'}" in out
    assert f"提示：{tmp_path} 不在你的 PATH 里" in out
    monkeypatch.setattr(download, "_open", FakeNet({}))
    res = runner.invoke(app, ["lab", "fetch", "kubectl", "--to", str(tmp_path), "--lang", "zh"])
    assert res.exit_code == 2
    assert ("错误：无法安装 kubectl；没有做任何改动（DaoCloud 镜像失败：Connection timed out；"
            "上游失败：Connection timed out）") in res.output
