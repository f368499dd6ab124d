"""``capsim lab doctor`` against fake uname/docker/kubectl/minikube on a private PATH."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app
from capsim.lab.distro import detect, parse_os_release
from capsim.lab.doctor import FAIL, OK, WARN, diagnose, render
from tests.lab_fakes import CENTOS7, ROCKY9, UBUNTU_2204, Reply, context, fake, recorded

runner = CliRunner()

DOCKER_UP = (
    "Client: Docker Engine - Community\n Version:           27.3.1\n API version:       1.47\n\n"
    "Server: Docker Engine - Community\n Engine:\n  Version:          27.3.1\n"
)
DOCKER_DOWN_ERR = (
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
    "Is the docker daemon running?\n"
)
KUBECTL_JSON = json.dumps({"clientVersion": {"major": "1", "minor": "32", "gitVersion": "v1.32.2"}})
MINIKUBE_RUNNING = json.dumps(
    {"Name": "minikube", "Host": "Running", "Kubelet": "Running", "APIServer": "Running"}
)
MIRROR = "https://mirror.example.com"


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """An empty PATH, a Rocky 9 os-release and a daemon.json with a mirror."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os_release = tmp_path / "os-release"
    os_release.write_text(ROCKY9, encoding="utf-8")
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text(json.dumps({"registry-mirrors": [MIRROR]}), encoding="utf-8")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("CAPSIM_OS_RELEASE", str(os_release))
    return {"bin": bin_dir, "os_release": os_release, "daemon_json": daemon_json, "tmp": tmp_path}


def healthy(
    bin_dir: Path, *, kernel: str = "5.14.0-362.el9.x86_64\n", log: Path | None = None
) -> None:
    fake(bin_dir, "uname", {"-r": Reply(kernel)}, log=log)
    fake(
        bin_dir,
        "docker",
        {
            "--version": Reply("Docker version 27.3.1, build ce12230\n"),
            "version": Reply(DOCKER_UP),
            "info": Reply(json.dumps([MIRROR + "/"]) + "\n"),
        },
        log=log,
    )
    fake(bin_dir, "kubectl", {"version": Reply(KUBECTL_JSON)}, log=log)
    fake(
        bin_dir,
        "minikube",
        {"version": Reply("v1.35.0\n"), "status": Reply(MINIKUBE_RUNNING)},
        log=log,
    )
    fake(bin_dir, "timedatectl", {"status": Reply("System clock synchronized: yes\n")}, log=log)


def doctor(m: dict[str, Path], *args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["lab", "doctor", "--daemon-json", str(m["daemon_json"]), *args])
    return res.exit_code, res.output


def rows(output: str) -> dict[str, str]:
    """Table rows: check title -> status word."""
    titles = ("OS", "kernel", "docker client", "docker daemon", "registry mirror", "kubectl",
              "minikube status", "minikube", "time sync")  # fmt: skip
    out: dict[str, str] = {}
    for line in output.splitlines():
        for t in titles:
            if line.startswith(t + "  "):
                out[t] = line[len(t) :].split()[0]
                break
    return out


def by_name(report_json: str) -> dict[str, dict[str, object]]:
    return {c["name"]: c for c in json.loads(report_json)["checks"]}


def test_everything_present_is_ready_for_every_chapter(machine: dict[str, Path]) -> None:
    healthy(machine["bin"])
    for chapter in ("docker", "minikube", "services", "cap"):
        code, out = doctor(machine, "--chapter", chapter)
        assert code == 0, out
        assert f"Ready for chapter '{chapter}'." in out
    table = rows(out)
    for title in ("kernel", "docker client", "docker daemon", "registry mirror", "kubectl",
                  "minikube", "minikube status"):  # fmt: skip
        assert table[title] == "ok", (title, out)
    assert "Rocky Linux 9.3" in out and "yum" in out
    assert "v1.32.2" in out and "engine 27.3.1" in out and MIRROR in out


def test_nothing_installed_fails_with_yum_fixes(machine: dict[str, Path]) -> None:
    """No docker, kubectl, minikube or uname: each missing row says how to install it."""
    code, out = doctor(machine, "--json")
    assert code == 1
    report = json.loads(out)
    assert report["ready"] is False and report["distro"]["package_manager"] == "yum"
    checks = by_name(out)
    assert checks["kernel"]["status"] == OK  # falls back to the running kernel
    for name in ("docker", "daemon", "kubectl", "minikube", "cluster"):
        assert checks[name]["status"] == FAIL and checks[name]["needed"] is True, name
    docker_fix = "\n".join(checks["docker"]["fix"])  # type: ignore[arg-type]
    assert (
        "yum-config-manager --add-repo https://mirrors.aliyun.com/docker-ce/linux/centos/docker-ce.repo"
        in docker_fix
    )
    assert "yum install -y docker-ce docker-ce-cli containerd.io" in docker_fix
    kubectl_fix = "\n".join(checks["kubectl"]["fix"])  # type: ignore[arg-type]
    assert "baseurl=https://mirrors.aliyun.com/kubernetes-new/core/stable/v1.32/rpm/" in kubectl_fix
    minikube_fix = "\n".join(checks["minikube"]["fix"])  # type: ignore[arg-type]
    assert "-m capsim lab fetch minikube --to " in minikube_fix
    assert "/.local/bin" in minikube_fix
    assert checks["daemon"]["detail"] == "not checked: no docker client"


def test_old_kernel_blocks_the_docker_chapter(machine: dict[str, Path]) -> None:
    healthy(machine["bin"], kernel="2.6.32-754.el6.x86_64\n")
    code, out = doctor(machine, "--chapter", "docker")
    assert code == 1
    assert rows(out)["kernel"] == "FAIL"
    assert "2.6.32-754.el6.x86_64: older than 3.10" in out
    assert "Not ready for chapter 'docker': kernel." in out


def test_daemon_down_is_reported_with_start_command(machine: dict[str, Path]) -> None:
    healthy(machine["bin"])
    fake(
        machine["bin"],
        "docker",
        {
            "--version": Reply("Docker version 27.3.1, build ce12230\n"),
            "version": Reply(
                "Client: Docker Engine - Community\n Version: 27.3.1\n", DOCKER_DOWN_ERR, 1
            ),
        },
    )
    code, out = doctor(machine, "--chapter", "docker")
    assert code == 1
    table = rows(out)
    assert table["docker client"] == "ok" and table["docker daemon"] == "FAIL"
    assert "cannot connect to the docker daemon" in out

    ctx = context(machine["os_release"], has_systemd=True)
    report = diagnose("docker", ctx=ctx, daemon_json=machine["daemon_json"])
    daemon = next(c for c in report.checks if c.name == "daemon")
    assert daemon.fix == ("sudo systemctl enable --now docker",)
    mirror = next(c for c in report.checks if c.name == "mirror")
    assert mirror.status == OK  # configured in the file; cannot ask a stopped daemon


def test_permission_denied_suggests_the_docker_group(machine: dict[str, Path]) -> None:
    healthy(machine["bin"])
    fake(
        machine["bin"],
        "docker",
        {
            "--version": Reply("Docker version 27.3.1\n"),
            "version": Reply(
                "Client:\n",
                "permission denied while trying to connect to the Docker daemon socket at "
                "unix:///var/run/docker.sock\n",
                1,
            ),
        },
    )
    ctx = context(machine["os_release"])
    report = diagnose("docker", ctx=ctx, daemon_json=machine["daemon_json"])
    daemon = next(c for c in report.checks if c.name == "daemon")
    assert daemon.status == FAIL
    assert daemon.fix[0] == "sudo usermod -aG docker student"
    assert not report.ready


def test_chapter_decides_what_is_needed(machine: dict[str, Path]) -> None:
    """Docker ready, no kubectl or minikube: ready for 'docker', not for 'minikube'."""
    healthy(machine["bin"])
    (machine["bin"] / "kubectl").unlink()
    (machine["bin"] / "minikube").unlink()
    code, out = doctor(machine, "--chapter", "docker")
    assert code == 0, out
    assert rows(out)["kubectl"] == "FAIL"  # shown, but not needed yet
    code, out = doctor(machine, "--chapter", "minikube")
    assert code == 1
    assert "Not ready for chapter 'minikube': kubectl, minikube." in out


def test_stopped_cluster_blocks_services_only(machine: dict[str, Path]) -> None:
    healthy(machine["bin"])
    stopped = json.dumps({"Host": "Stopped", "Kubelet": "Stopped", "APIServer": "Stopped"})
    fake(
        machine["bin"], "minikube", {"version": Reply("v1.35.0\n"), "status": Reply(stopped, "", 7)}
    )
    assert doctor(machine, "--chapter", "minikube")[0] == 0
    code, out = doctor(machine, "--chapter", "services")
    assert code == 1
    assert "Host Stopped, Kubelet Stopped, APIServer Stopped" in out
    assert "minikube start --driver=docker --kubernetes-version=v1.32.0" in out


def test_old_kubectl_fails(machine: dict[str, Path]) -> None:
    healthy(machine["bin"])
    old = json.dumps({"clientVersion": {"gitVersion": "v1.10.0"}})
    fake(machine["bin"], "kubectl", {"version": Reply(old)})
    code, out = doctor(machine, "--chapter", "minikube", "--json")
    assert code == 1
    kubectl = by_name(out)["kubectl"]
    assert kubectl["status"] == FAIL and "v1.10.0: older than 1.23" in str(kubectl["detail"])


def test_mirror_rows(machine: dict[str, Path]) -> None:
    healthy(machine["bin"])
    machine["daemon_json"].write_text('{"log-driver": "json-file"}', encoding="utf-8")
    checks = by_name(doctor(machine, "--json")[1])
    assert checks["mirror"]["status"] == WARN and checks["mirror"]["needed"] is False
    assert any("lab mirror" in f for f in checks["mirror"]["fix"])  # type: ignore[union-attr]

    machine["daemon_json"].write_text('{"registry-mirrors": [', encoding="utf-8")
    code, out = doctor(machine, "--json")
    assert code == 0  # the daemon answers, so nothing needed is missing
    assert by_name(out)["mirror"]["status"] == FAIL
    assert "not valid JSON" in str(by_name(out)["mirror"]["detail"])

    machine["daemon_json"].write_text(json.dumps({"registry-mirrors": ["https://other.example"]}))
    checks = by_name(doctor(machine, "--json")[1])
    assert checks["mirror"]["status"] == WARN
    assert "not active: restart docker" in str(checks["mirror"]["detail"])


def test_doctor_never_uses_sudo(machine: dict[str, Path]) -> None:
    log = machine["tmp"] / "calls.log"
    healthy(machine["bin"], log=log)
    fake(machine["bin"], "sudo", log=log)
    doctor(machine)
    programs = {call[0] for call in recorded(log)}
    assert programs == {"uname", "docker", "kubectl", "minikube", "timedatectl"} - (
        set() if Path("/run/systemd/system").is_dir() else {"timedatectl"}
    )
    assert "sudo" not in programs


def test_centos7_is_flagged_end_of_life_with_a_vault_fix(machine: dict[str, Path]) -> None:
    machine["os_release"].write_text(CENTOS7, encoding="utf-8")
    healthy(machine["bin"])
    report = diagnose(
        "docker", ctx=context(machine["os_release"]), daemon_json=machine["daemon_json"]
    )
    os_row = report.checks[0]
    assert os_row.status == WARN and "end-of-life" in os_row.detail
    assert any("centos-vault/7.9.2009" in f for f in os_row.fix)
    assert report.ready  # advice, not a blocker


def test_ubuntu_gets_apt_commands(machine: dict[str, Path]) -> None:
    machine["os_release"].write_text(UBUNTU_2204, encoding="utf-8")
    ctx = context(machine["os_release"])
    report = diagnose("docker", ctx=ctx, daemon_json=machine["daemon_json"])
    docker = next(c for c in report.checks if c.name == "docker")
    text = "\n".join(docker.fix)
    assert "sudo apt-get install -y docker-ce docker-ce-cli containerd.io" in text
    assert (
        "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] "
        "https://mirrors.aliyun.com/docker-ce/linux/ubuntu jammy stable"
    ) in text
    assert "yum" not in text
    assert "How to fix:" in render(report)


def test_os_release_parsing() -> None:
    fields = parse_os_release('ID="centos"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n# c\nBAD\nX=\n')
    assert fields == {"ID": "centos", "PRETTY_NAME": "CentOS Linux 7 (Core)", "X": ""}
    missing = detect(Path("/nonexistent/os-release"))
    assert missing.family == "unknown" and missing.package_manager is None
