"""``capsim lab doctor``: is this machine ready for a chapter, and if not, what to type.

Each check probes one thing with an unprivileged command (``uname -r``,
``docker version``, ``kubectl version --client``, ``minikube status`` ...)
and reports a status, a one-line detail and the exact commands that fix it
on the detected distribution. A chapter *needs* some checks; the machine is
ready for it when every needed check is ``ok``. Advice-only checks (OS
support, registry mirror, time sync) say ``warn`` and never block.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from capsim.lab import install, runner
from capsim.lab.commands import Command, Context, note
from capsim.lab.distro import Distro
from capsim.lab.versions import MIN_K8S, MIN_KERNEL, parse_version

DEFAULT_DAEMON_JSON = Path("/etc/docker/daemon.json")
MIRROR_PLACEHOLDER = "https://<your-id>.mirror.aliyuncs.com"

OK, WARN, FAIL = "ok", "warn", "fail"

_DOCKER = ("kernel", "docker", "daemon")
_MINIKUBE = (*_DOCKER, "kubectl", "minikube")
_CLUSTER = (*_MINIKUBE, "cluster")
NEEDED: dict[str, tuple[str, ...]] = {
    "docker": _DOCKER,
    "minikube": _MINIKUBE,
    "services": _CLUSTER,
    "cap": _CLUSTER,
}
"""What each chapter cannot start without. ``minikube`` starts the cluster itself,
so only ``services`` and ``cap`` need it running already."""


@dataclass(frozen=True)
class Check:
    """One row of the doctor's table."""

    name: str
    title: str
    status: str
    detail: str
    fix: tuple[str, ...] = ()
    """Commands to type (copy-paste ready), or ``# advice`` lines."""
    needed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "needed": self.needed,
            "detail": self.detail,
            "fix": list(self.fix),
        }


@dataclass(frozen=True)
class Report:
    chapter: str
    distro: Distro
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def ready(self) -> bool:
        return all(c.status == OK for c in self.checks if c.needed)

    @property
    def blocking(self) -> list[Check]:
        return [c for c in self.checks if c.needed and c.status != OK]

    def to_dict(self) -> dict[str, Any]:
        d = self.distro
        return {
            "chapter": self.chapter,
            "ready": self.ready,
            "distro": {
                "id": d.id,
                "name": d.name,
                "version_id": d.version_id,
                "family": d.family,
                "package_manager": d.package_manager,
                "os_release": d.source,
            },
            "checks": [c.to_dict() for c in self.checks],
        }


def _cmds(commands: Sequence[Command]) -> tuple[str, ...]:
    return tuple(c.render() for c in commands)


def _upstream(ctx: Context, url: str) -> tuple[str, ...]:
    return (note(f"no commands for this distribution ({ctx.distro.name}); follow {url}"),)


# --- the checks ---------------------------------------------------------------


def check_os(ctx: Context) -> Check:
    d = ctx.distro
    title = "OS"
    if not sys.platform.startswith("linux"):
        return Check(
            "os",
            title,
            WARN,
            f"{sys.platform}: the course's commands are for Linux",
            (note("use a Linux VM (CentOS/Rocky or Ubuntu), or Docker Desktop"),),
        )
    if d.family == "unknown":
        return Check(
            "os",
            title,
            WARN,
            f"{d.name}: not a yum or apt distribution; fixes are links",
            (note(f"read from {d.source}"),),
        )
    detail = f"{d.name} (fixes use {d.package_manager})"
    if d.id == "centos" and d.major == 7:
        fix = (
            note("CentOS 7 is end-of-life (2024-06-30): its yum repositories moved to the vault"),
            Command(
                ctx.sudo(
                    "sed",
                    "-i",
                    "-e",
                    "s|^mirrorlist=|#mirrorlist=|",
                    "-e",
                    "s|^#baseurl=http://mirror.centos.org/centos/$releasever|"
                    f"baseurl={install.ALIYUN}/centos-vault/7.9.2009|",
                    "/etc/yum.repos.d/CentOS-Base.repo",
                ),
                "point yum at the Aliyun mirror of vault.centos.org",
            ).render(),
            Command(ctx.sudo("yum", "makecache"), "re-read the repositories").render(),
            note("better, when you can: Rocky Linux or AlmaLinux 9 (same yum commands)"),
        )
        return Check("os", title, WARN, detail + "; end-of-life, repositories archived", fix)
    if d.id == "centos" and d.major == 8:
        return Check(
            "os",
            title,
            WARN,
            detail + "; end-of-life since 2021",
            (note("move to Rocky Linux or AlmaLinux 9 (same yum commands)"),),
        )
    return Check("os", title, OK, detail)


def check_kernel(ctx: Context) -> Check:
    res = runner.run(["uname", "-r"], timeout=5)
    if res.ok and res.stdout.strip():
        release, source = res.stdout.strip(), "uname -r"
    else:
        release, source = os.uname().release, "os.uname(); `uname` not found"
    version = parse_version(release)
    want = ".".join(map(str, MIN_KERNEL))
    if version is None:
        return Check(
            "kernel",
            "kernel",
            FAIL,
            f"cannot read a version from {release!r} ({source})",
            (note("run `uname -r` and check it is at least " + want),),
        )
    if version < MIN_KERNEL:
        fix = (
            note(
                f"docker needs Linux >= {want}: install CentOS 7 or later "
                "(Rocky Linux 9 today) or Ubuntu 20.04+; no package update crosses that gap"
            ),
        )
        return Check("kernel", "kernel", FAIL, f"{release}: older than {want}", fix)
    return Check("kernel", "kernel", OK, f"{release} (>= {want})")


def check_docker_client(ctx: Context) -> tuple[Check, bool]:
    res = runner.run(["docker", "--version"], timeout=10)
    if res.missing:
        fix = _cmds(
            install.remove_old_docker(ctx)
            + install.install_docker(ctx)
            + install.start_docker(ctx)
            + install.join_docker_group(ctx)
        )
        return (
            Check(
                "docker",
                "docker client",
                FAIL,
                "docker: command not found",
                fix or _upstream(ctx, install.DOCKER_DOCS),
            ),
            False,
        )
    if not res.ok:
        fix = _cmds(install.remove_old_docker(ctx) + install.install_docker(ctx))
        return Check(
            "docker",
            "docker client",
            FAIL,
            res.describe_failure(),
            fix or _upstream(ctx, install.DOCKER_DOCS),
        ), False
    return Check("docker", "docker client", OK, res.stdout.strip().splitlines()[0]), True


_SERVER_VERSION = re.compile(r"^Server:.*?^\s+Version:\s*(\S+)", re.M | re.S)


def check_daemon(ctx: Context, client: bool) -> Check:
    title = "docker daemon"
    if not client:
        return Check(
            "daemon",
            title,
            FAIL,
            "not checked: no docker client",
            (note("install docker first (row 'docker client')"),),
        )
    res = runner.run(["docker", "version"], timeout=20)
    if res.ok and re.search(r"^Server:", res.stdout, re.M):
        m = _SERVER_VERSION.search(res.stdout)
        return Check("daemon", title, OK, f"reachable, engine {m.group(1) if m else '?'}")
    err = (res.stderr + res.stdout).lower()
    if "permission denied" in err:
        fix = (
            *_cmds(install.join_docker_group(ctx)),
            note("then log out and back in (or run `newgrp docker`) so the group applies"),
        )
        return Check("daemon", title, FAIL, "permission denied on /var/run/docker.sock", fix)
    if not ctx.has_systemd:
        fix = (
            note("no systemd on this machine (a container?): start the daemon by hand"),
            " ".join(ctx.sudo("dockerd")),
            note("or do the lab in a VM, where `systemctl enable --now docker` works"),
        )
    else:
        fix = _cmds(install.start_docker(ctx))
    reason = "no Server part in `docker version`"
    if res.timed_out:
        reason = "`docker version` did not answer within 20 s"
    elif "cannot connect" in err or "is the docker daemon running" in err:
        reason = "cannot connect to the docker daemon (not running?)"
    return Check("daemon", title, FAIL, reason, fix)


def read_daemon_json(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """``(config, None)`` or ``(None, why not)``; a missing file is ``({}, None)``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"
    if not text.strip():
        return {}, None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})"
    if not isinstance(data, dict):
        return None, f"{path}: the top level must be a JSON object, not {type(data).__name__}"
    return data, None


def check_mirror(ctx: Context, daemon_json: Path, daemon_up: bool) -> Check:
    title = "registry mirror"
    mirror = ctx.mirror or MIRROR_PLACEHOLDER
    configure = _cmds(install.configure_mirror(ctx, mirror, str(daemon_json)))
    if ctx.mirror is None:
        configure = (
            note("your accelerator address: Aliyun console > 容器镜像服务 > 镜像加速器"),
            *configure,
        )
    data, problem = read_daemon_json(daemon_json)
    if data is None:
        if problem and "not valid JSON" in problem:
            return Check(
                "mirror",
                title,
                FAIL,
                f"{problem}; dockerd will refuse to start",
                (note(f"fix the JSON by hand (python3 -m json.tool {daemon_json})"),),
            )
        return Check("mirror", title, WARN, problem or "unreadable", (f"sudo cat {daemon_json}",))
    mirrors = data.get("registry-mirrors") or []
    if not isinstance(mirrors, list) or not mirrors:
        where = "no file" if not daemon_json.exists() else "no registry-mirrors"
        return Check(
            "mirror",
            title,
            WARN,
            f"{daemon_json}: {where}; pulls go to Docker Hub directly",
            configure,
        )
    listed = ", ".join(map(str, mirrors))
    if daemon_up:
        res = runner.run(
            ["docker", "info", "--format", "{{json .RegistryConfig.Mirrors}}"], timeout=20
        )
        if res.ok:
            try:
                live = json.loads(res.stdout or "null") or []
            except json.JSONDecodeError:
                live = None
            if isinstance(live, list) and {str(m).rstrip("/") for m in mirrors} - {
                str(m).rstrip("/") for m in live
            }:
                return Check(
                    "mirror",
                    title,
                    WARN,
                    f"{listed} configured but not active: restart docker",
                    _cmds(install.restart_docker(ctx)),
                )
    return Check("mirror", title, OK, listed)


def check_kubectl(ctx: Context) -> Check:
    title = "kubectl"
    res = runner.run(["kubectl", "version", "--client", "-o", "json"], timeout=15)
    fix = _cmds(install.install_kubectl(ctx) or install.fetch_binary(ctx, "kubectl"))
    if res.missing:
        return Check("kubectl", title, FAIL, "kubectl: command not found", fix)
    version_text = ""
    try:
        version_text = json.loads(res.stdout)["clientVersion"]["gitVersion"]
    except (ValueError, KeyError, TypeError):
        m = re.search(r"v\d+\.\d+\.\d+\S*", res.stdout + res.stderr)
        version_text = m.group(0) if m else ""
    version = parse_version(version_text)
    if version is None:
        return Check(
            "kubectl", title, FAIL, f"cannot read its version ({res.describe_failure()})", fix
        )
    want = ".".join(map(str, MIN_K8S))
    if version < MIN_K8S:
        return Check(
            "kubectl",
            title,
            FAIL,
            f"{version_text}: older than {want} (the course's 2018 kubectl?)",
            fix,
        )
    return Check("kubectl", title, OK, version_text)


def check_minikube(ctx: Context) -> tuple[Check, bool]:
    res = runner.run(["minikube", "version", "--short"], timeout=15)
    fix = _cmds(install.install_minikube(ctx))
    if res.missing:
        return Check("minikube", "minikube", FAIL, "minikube: command not found", fix), False
    if not res.ok:
        return Check("minikube", "minikube", FAIL, res.describe_failure(), fix), False
    return Check("minikube", "minikube", OK, res.stdout.strip() or "present"), True


def check_cluster(ctx: Context, present: bool) -> Check:
    title = "minikube status"
    start = _cmds(install.start_minikube(ctx))
    if not present:
        return Check(
            "cluster",
            title,
            FAIL,
            "not checked: no minikube",
            (note("install minikube first (row 'minikube')"),),
        )
    res = runner.run(["minikube", "status", "--output", "json"], timeout=30)
    if res.timed_out:
        return Check("cluster", title, FAIL, "`minikube status` did not answer within 30 s", start)
    state: Any = None
    try:
        state = json.loads(res.stdout)
    except ValueError:
        state = None
    if isinstance(state, list):
        state = state[0] if state else None
    if not isinstance(state, dict):
        text = (res.stdout + res.stderr).strip().splitlines()
        detail = text[0].strip() if text else res.describe_failure()
        if "not found" in detail.lower():
            detail = "no cluster yet (profile 'minikube' not found)"
        return Check("cluster", title, FAIL, detail, start)
    parts = {k: str(state.get(k, "?")) for k in ("Host", "Kubelet", "APIServer")}
    summary = ", ".join(f"{k} {v}" for k, v in parts.items())
    if all(v == "Running" for v in parts.values()):
        return Check("cluster", title, OK, summary)
    return Check("cluster", title, FAIL, summary, start)


_SYNCED = re.compile(r"(?:NTP|System clock) synchronized:\s*(yes|no)", re.I)


def check_time(ctx: Context) -> Check:
    title = "time sync"
    fix = _cmds(install.time_sync(ctx))
    why = "certificates (docker pulls, the cluster) fail when the clock is off"
    if not ctx.has_systemd:
        return Check(
            "time",
            title,
            WARN,
            "cannot tell: no systemd here (a container uses its host's clock)",
            (note("compare `date -u` with a real clock; fix the clock on the host"),),
        )
    res = runner.run(["timedatectl", "status"], timeout=10)
    m = _SYNCED.search(res.stdout) if res.ok else None
    if m is None:
        reason = res.describe_failure() if not res.ok else "no synchronisation line"
        return Check(
            "time",
            title,
            WARN,
            f"cannot tell ({reason}); {why}",
            (note("check the clock with `date`; keep chrony running:"), *fix),
        )
    if m.group(1).lower() == "yes":
        return Check("time", title, OK, "clock synchronised (NTP)")
    return Check("time", title, WARN, f"clock not synchronised; {why}", fix)


# --- the report -----------------------------------------------------------------


def diagnose(
    chapter: str = "cap",
    *,
    ctx: Context | None = None,
    os_release: str | Path | None = None,
    daemon_json: str | Path = DEFAULT_DAEMON_JSON,
) -> Report:
    """Run every check; mark those ``chapter`` needs. Never raises for a broken machine."""
    if chapter not in NEEDED:
        raise ValueError(f"unknown chapter {chapter!r}; choose from {', '.join(NEEDED)}")
    ctx = ctx or Context.detect(os_release=os_release)
    docker, has_docker = check_docker_client(ctx)
    daemon = check_daemon(ctx, has_docker)
    minikube, has_minikube = check_minikube(ctx)
    rows = [
        check_os(ctx),
        check_kernel(ctx),
        docker,
        daemon,
        check_mirror(ctx, Path(daemon_json), daemon.status == OK),
        check_kubectl(ctx),
        minikube,
        check_cluster(ctx, has_minikube),
        check_time(ctx),
    ]
    needed = set(NEEDED[chapter])
    checks = tuple(replace(c, needed=c.name in needed) for c in rows)
    return Report(chapter, ctx.distro, checks)


_MARK = {OK: "ok", WARN: "warn", FAIL: "FAIL"}


def render(report: Report) -> str:
    """The table, then the fixes in full (never wrapped, so they copy-paste)."""
    rows = [("CHECK", "STATUS", "NEEDED", "DETAIL")]
    for c in report.checks:
        rows.append((c.title, _MARK[c.status], "yes" if c.needed else "-", c.detail))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [
        f"capsim lab doctor: chapter '{report.chapter}' on {report.distro.name}",
        "",
        *(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
            for row in rows
        ),
    ]
    fixes = [c for c in report.checks if c.status != OK and c.fix]
    if fixes:
        lines += ["", "How to fix:"]
        for c in fixes:
            lines.append(f"\n[{c.title}]{' (needed)' if c.needed else ''}")
            for cmd in c.fix:
                lines.extend("  " + part for part in cmd.splitlines())
    lines.append("")
    if report.ready:
        lines.append(f"Ready for chapter '{report.chapter}'.")
    else:
        names = ", ".join(c.title for c in report.blocking)
        lines.append(f"Not ready for chapter '{report.chapter}': {names}.")
        first = _chapters_first(report)
        if first:
            lines.append(f"Chapter '{report.chapter}' builds on the "
                         + " and ".join(f"'{c}'" for c in first)
                         + " chapter" + ("s" if len(first) > 1 else "") + "; set those up first:")
            lines.extend(f"  capsim lab steps {c}" for c in first)
            lines.append(f"then chapter '{report.chapter}' itself: "
                         f"capsim lab steps {report.chapter}")
        else:
            lines.append(f"Chapter '{report.chapter}''s commands in order: "
                         f"capsim lab steps {report.chapter}")
    return "\n".join(lines)


def _chapters_first(report: Report) -> list[str]:
    """The earlier chapters that set up what blocks ``report.chapter`` (in course order)."""
    blocking = {c.name for c in report.blocking}
    first = []
    if report.chapter != "docker" and blocking & set(_DOCKER):
        first.append("docker")
    if report.chapter not in ("docker", "minikube") and blocking & {"kubectl", "minikube",
                                                                     "cluster"}:
        first.append("minikube")
    return first
