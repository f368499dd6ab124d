"""``capsim lab steps``: a dry run by default; ``--execute`` runs exact argv lists and stops
at the first failure."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app
from capsim.lab import runner as lab_runner
from capsim.lab import steps as s
from tests.lab_fakes import CENTOS7, Reply, context, fake, recorded

cli = CliRunner()
MIRROR = "https://m.example.com"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    os_release = tmp_path / "os-release"
    os_release.write_text(CENTOS7, encoding="utf-8")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("CAPSIM_OS_RELEASE", str(os_release))
    return {"bin": bin_dir, "log": log, "os_release": os_release, "tmp": tmp_path}


def stubs(env: dict[str, Path], *names: str, **replies: dict[str, Reply]) -> None:
    for name in names:
        fake(env["bin"], name, replies.get(name), log=env["log"])


def test_services_execute_runs_exact_argv(env: dict[str, Path]) -> None:
    stubs(env, "kubectl", "minikube")
    d = str(env["tmp"] / "k8s")
    res = cli.invoke(app, ["lab", "steps", "services", "--execute", "--manifests", d])
    assert res.exit_code == 0, res.output
    assert "all 16 steps of chapter services worked." in res.output
    # step 1 ran the real `python -m capsim lab manifests` (an absolute path, not a stub)
    assert (Path(d) / "05-my-ingress.yaml").is_file()
    assert recorded(env["log"]) == [
        ["kubectl", "apply", "-f", f"{d}/04-my-app-clusterip.yaml"],
        ["kubectl", "get", "service", "my-app"],
        ["kubectl", "apply", "-f", f"{d}/03-external-mysql.yaml"],
        ["kubectl", "describe", "service", "external-mysql"],
        ["kubectl", "get", "endpointslices", "-l", "kubernetes.io/service-name=external-mysql"],
        ["kubectl", "run", "mysql-client", "--rm", "-i", "--restart=Never", "--image=mysql:8.0",
         "--", "mysql", "-h", "external-mysql", "-uroot", "-pcapsim-lab",
         "-e", "SELECT VERSION();"],
        ["kubectl", "apply", "-f", f"{d}/01-hello-minikube.yaml"],
        ["minikube", "service", "hello-minikube", "--url"],
        ["kubectl", "apply", "-f", f"{d}/02-my-nginx-loadbalancer.yaml"],
        ["kubectl", "get", "service", "my-nginx"],
        ["minikube", "addons", "enable", "ingress"],
        ["kubectl", "wait", "--namespace", "ingress-nginx", "--for=condition=ready", "pod",
         "--selector=app.kubernetes.io/component=controller", "--timeout=300s"],
        ["kubectl", "apply", "-f", f"{d}/05-my-ingress.yaml"],
        ["kubectl", "get", "ingress", "my-ingress"],
        ["kubectl", "run", "ingress-check", "--rm", "-i", "--restart=Never",
         "--image=curlimages/curl:8.11.1", "--", "curl", "-sS", "-H", "Host: my.example.com",
         "http://ingress-nginx-controller.ingress-nginx.svc.cluster.local/app"],
    ]  # fmt: skip


def test_docker_chapter_on_centos_runs_exact_argv(env: dict[str, Path]) -> None:
    """A student (not root, not yet in the docker group) on CentOS 7, with --yes."""
    stubs(env, "sudo", "mkdir", "tee", "curl")
    ctx = context(env["os_release"], mirror=MIRROR)
    ch = s.chapter("docker", ctx)
    lines: list[str] = []
    assert s.execute(ch, yes=True, echo=lines.append) == 0, lines
    www = "/home/student/capsim-www"
    retry = ["curl", "-sS", "--retry", "10", "--retry-connrefused", "--retry-delay", "1"]
    sudo_docker = ["sudo", "docker"]
    assert recorded(env["log"]) == [
        ["sudo", "yum", "remove", "-y", "docker", "docker-client", "docker-client-latest",
         "docker-common", "docker-latest", "docker-latest-logrotate", "docker-logrotate",
         "docker-engine"],
        ["sudo", "yum", "install", "-y", "yum-utils"],
        ["sudo", "yum-config-manager", "--add-repo",
         "https://mirrors.aliyun.com/docker-ce/linux/centos/docker-ce.repo"],
        ["sudo", "yum", "install", "-y", "docker-ce", "docker-ce-cli", "containerd.io",
         "docker-buildx-plugin"],
        ["sudo", "systemctl", "enable", "--now", "docker"],
        ["sudo", "/opt/venv/bin/python", "-m", "capsim", "lab", "mirror", MIRROR],
        ["sudo", "systemctl", "daemon-reload"],
        ["sudo", "systemctl", "restart", "docker"],
        ["sudo", "usermod", "-aG", "docker", "student"],
        [*sudo_docker, "run", "--rm", "hello-world"],
        ["mkdir", "-p", www],
        ["tee", f"{www}/index.html"],
        [*sudo_docker, "run", "-d", "--name", "web", "-p", "8080:80",
         "-v", f"{www}:/usr/share/nginx/html:ro", "nginx:1.27"],
        [*retry, "http://127.0.0.1:8080/"],
        [*sudo_docker, "run", "-d", "--name", "webapp", "-P", "--expose", "5000",
         "python:3.11-slim", "python", "-m", "http.server", "5000"],
        [*sudo_docker, "port", "webapp", "5000"],
        [*sudo_docker, "run", "-d", "--name", "webapp-local", "-p", "127.0.0.1:5001:5000",
         "python:3.11-slim", "python", "-m", "http.server", "5000"],
        [*retry, "http://127.0.0.1:5001/"],
        [*sudo_docker, "run", "-d", "--name", "mysql", "-e", "MYSQL_ROOT_PASSWORD=capsim-lab",
         "-p", "3306:3306", "mysql:8.0"],
        [*sudo_docker, "run", "-d", "--name", "tomcat", "-p", "8888:8080", "tomcat:9.0"],
        [*sudo_docker, "ps"],
        [*sudo_docker, "rm", "-f", "web", "webapp", "webapp-local", "tomcat"],
    ]  # fmt: skip
    stdin = (env["tmp"] / "calls.log.stdin").read_text()
    assert stdin == "<h1>Hello from the capsim lab</h1>\n"


def test_privileged_steps_need_yes_and_nothing_runs_without_it(env: dict[str, Path]) -> None:
    stubs(env, "sudo", "mkdir", "tee", "curl", "docker", "yum", "yum-config-manager", "systemctl")
    res = cli.invoke(app, ["lab", "steps", "docker", "--execute"])
    assert res.exit_code == 2
    assert "need root or remove things" in res.output and "--yes" in res.output
    assert "[root, destructive]" in res.output and "yum remove -y docker" in res.output
    assert recorded(env["log"]) == []


def test_first_failure_stops_and_shows_stderr(env: dict[str, Path]) -> None:
    err = 'Error from server (NotFound): services "my-app" not found\n'
    stubs(env, "minikube", "kubectl", kubectl={"get": Reply("", err, 1)})
    d = str(env["tmp"] / "k8s")
    res = cli.invoke(
        app, ["lab", "steps", "services", "--execute", "--from", "2", "--manifests", d]
    )
    assert res.exit_code == 1
    assert recorded(env["log"]) == [
        ["kubectl", "apply", "-f", f"{d}/04-my-app-clusterip.yaml"],
        ["kubectl", "get", "service", "my-app"],
    ]
    assert "step 3 failed: exit 1" in res.output
    assert 'services "my-app" not found' in res.output
    assert "capsim lab steps services --execute --from 3" in res.output


def test_dry_run_prints_current_commands_and_runs_nothing(env: dict[str, Path]) -> None:
    stubs(env, "kubectl", "minikube", "sudo", "curl")
    res = cli.invoke(app, ["lab", "steps", "minikube"])
    assert res.exit_code == 0
    out = res.output
    assert "Dry run: nothing is executed." in out
    assert "kubectl create deployment hello-minikube --image=nginx:1.27 --port=80" in out
    assert "kubectl expose deployment hello-minikube --type=NodePort --port=80" in out
    assert "kubectl run hello-minikube" not in out
    assert "baseurl=https://mirrors.aliyun.com/kubernetes-new/core/stable/v1.32/rpm/" in out
    assert "why:" in out and "expect:" in out
    assert recorded(env["log"]) == []

    res = cli.invoke(app, ["lab", "steps", "services"])
    assert "networking.k8s.io/v1" in res.output
    res = cli.invoke(app, ["lab", "steps", "docker", "--mirror", MIRROR])
    assert f"lab mirror {MIRROR}" in res.output and "[root, destructive]" in res.output


def test_bad_arguments_exit_2(env: dict[str, Path]) -> None:
    assert cli.invoke(app, ["lab", "steps", "services", "--from", "99"]).exit_code == 2
    assert cli.invoke(app, ["lab", "steps", "docker", "--mirror", "ftp://x"]).exit_code == 2
    assert cli.invoke(app, ["lab", "steps", "helm"]).exit_code == 2


def test_runner_reports_missing_and_hung_programs(env: dict[str, Path]) -> None:
    assert lab_runner.run(["no-such-program"]).missing
    hang = env["bin"] / "hang"
    hang.write_text("#!/bin/sh\nwhile :; do :; done\n")
    hang.chmod(0o755)
    res = lab_runner.run(["hang"], timeout=0.3)
    assert res.timed_out and not res.ok
    res = lab_runner.stream(["hang"], on_line=lambda line: None, timeout=0.3)
    assert res.timed_out and not res.ok
    lines: list[str] = []
    fake(env["bin"], "talk", default=Reply("one\ntwo\n", "warn\n", 0))
    res = lab_runner.stream(["talk"], on_line=lines.append)
    assert res.ok and lines == ["one", "two"] and res.stderr == "warn\n"


def test_steps_use_this_interpreter_for_capsim(env: dict[str, Path]) -> None:
    """`sudo capsim` would miss a venv; the steps call the running interpreter by its path."""
    from capsim.lab.commands import Context

    ctx = Context.detect(os_release=env["os_release"])
    first = s.chapter("services", ctx).steps[0]
    assert first.argv[:3] == (sys.executable, "-m", "capsim")


def test_doctor_and_steps_know_the_same_chapters() -> None:
    from capsim.cli.lab import Chapter
    from capsim.lab import CHAPTERS
    from capsim.lab.doctor import NEEDED

    assert tuple(NEEDED) == tuple(s.CHAPTER_BUILDERS) == CHAPTERS == tuple(c.value for c in Chapter)
