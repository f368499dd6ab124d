"""``capsim lab mirror``: never loses a key, refuses what it cannot read, writes atomically."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app

runner = CliRunner()
URL = "https://abc123.mirror.aliyuncs.com"

EXISTING = {
    "log-driver": "json-file",
    "log-opts": {"max-size": "100m", "max-file": "3"},
    "insecure-registries": ["10.0.0.5:5000"],
    "registry-mirrors": ["https://first.example.com"],
    "exec-opts": ["native.cgroupdriver=systemd"],
    "storage-driver": "overlay2",
}


def mirror(path: Path, url: str = URL) -> tuple[int, str]:
    res = runner.invoke(app, ["lab", "mirror", url, "--daemon-json", str(path)])
    return res.exit_code, res.output


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def test_missing_file_is_created(tmp_path: Path) -> None:
    target = tmp_path / "docker" / "daemon.json"
    code, out = mirror(target)
    assert code == 0, out
    assert json.loads(target.read_text()) == {"registry-mirrors": [URL]}
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # dockerd and doctor can read it
    assert siblings(target) == ["daemon.json"]  # nothing to back up, no temp files left
    assert "systemctl restart docker" in out


def test_every_other_key_is_kept_and_the_old_file_backed_up(tmp_path: Path) -> None:
    target = tmp_path / "daemon.json"
    original = json.dumps(EXISTING, indent=4).encode()
    target.write_bytes(original)
    target.chmod(0o640)
    code, out = mirror(target)
    assert code == 0, out
    new = json.loads(target.read_text())
    assert new == {**EXISTING, "registry-mirrors": ["https://first.example.com", URL]}
    assert list(new) == list(EXISTING)  # same keys, same order
    backup = tmp_path / "daemon.json.bak"
    assert backup.read_bytes() == original
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert str(backup) in out


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "daemon.json"
    target.write_text(json.dumps(EXISTING))
    assert mirror(target)[0] == 0
    after_first = target.read_bytes()
    listing = siblings(target)
    for url in (URL, URL + "/"):
        code, out = mirror(target, url)
        assert code == 0
        assert "already" in out and "nothing changed" in out
        assert target.read_bytes() == after_first
        assert siblings(target) == listing


def test_backups_are_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "daemon.json"
    target.write_text("{}")
    mirror(target, "https://one.example.com")
    mirror(target, "https://two.example.com")
    assert json.loads((tmp_path / "daemon.json.bak").read_text()) == {}
    assert json.loads((tmp_path / "daemon.json.bak.1").read_text()) == {
        "registry-mirrors": ["https://one.example.com"]
    }


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{\n  "log-driver": "json-file",\n  "registry-mirrors": [\n}\n', ":4:1: not valid JSON"),
        ('["https://x"]', "top level must be a JSON object"),
        ('{"registry-mirrors": "https://x"}', "'registry-mirrors' must be a list"),
    ],
)
def test_unusable_file_is_refused_untouched(tmp_path: Path, content: str, expected: str) -> None:
    target = tmp_path / "daemon.json"
    target.write_text(content)
    code, out = mirror(target)
    assert code == 2
    assert expected in out and str(target) in out
    assert "Traceback" not in out
    assert target.read_text() == content
    assert siblings(target) == ["daemon.json"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://mirror.example.com",
        "mirror.example.com",
        "https://u:p@m.example.com",
        "https://m.example.com/?x=1",
    ],
)
def test_bad_urls_are_refused(tmp_path: Path, url: str) -> None:
    target = tmp_path / "daemon.json"
    code, out = mirror(target, url)
    assert code == 2 and "error:" in out
    assert not target.exists()


def _unwritable_dir_for_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the kernel answers for a read-only directory: EACCES on creating the temp file."""
    import tempfile

    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)


def test_unwritable_directory_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs as any user (root included): the failure is injected where the OS would raise it."""
    target = tmp_path / "daemon.json"
    content = json.dumps(EXISTING)
    target.write_text(content)
    _unwritable_dir_for_everyone(monkeypatch)
    code, out = mirror(target)
    assert code == 2
    assert f"cannot write in {tmp_path}: permission denied" in out
    assert "nothing was changed" in out and "sudo " in out
    assert target.read_text() == content
    assert siblings(target) == ["daemon.json"]


ROOT_REASON = (
    "running as root: root ignores permission bits (CAP_DAC_OVERRIDE), so a chmod-made read-only "
    "file or directory cannot fail; test_unwritable_directory_is_a_clear_error covers the path"
)


@pytest.mark.skipif(os.geteuid() == 0, reason=ROOT_REASON)
def test_read_only_directory_as_a_normal_user(tmp_path: Path) -> None:
    folder = tmp_path / "etc-docker"
    folder.mkdir()
    target = folder / "daemon.json"
    target.write_text(json.dumps(EXISTING))
    target.chmod(0o644)
    folder.chmod(0o555)
    try:
        code, out = mirror(target)
    finally:
        folder.chmod(0o755)
    assert code == 2 and "permission denied" in out
    assert json.loads(target.read_text()) == EXISTING
    assert siblings(target) == ["daemon.json"]


@pytest.mark.skipif(os.geteuid() == 0, reason=ROOT_REASON)
def test_read_only_file_as_a_normal_user(tmp_path: Path) -> None:
    target = tmp_path / "daemon.json"
    target.write_text(json.dumps(EXISTING))
    target.chmod(0o444)
    code, out = mirror(target)
    assert code == 2 and "read-only" in out
    assert json.loads(target.read_text()) == EXISTING
