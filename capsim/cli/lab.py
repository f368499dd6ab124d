"""``capsim lab``: get a machine ready for the course's docker and minikube chapters.

Only typer and the standard library at module level: the lab's modules are
imported inside each command, so ``capsim --help`` stays fast.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from capsim.cli.common import die, user_errors
from capsim.cli.plotopts import LANG_HELP, check_lang
from capsim.cli.root import app
from capsim.lab.versions import DEFAULT_K8S

lab_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help=(
        "Hands-on chapters: check the machine (doctor), add a docker registry mirror, "
        "write the course's Kubernetes manifests, and list or run each chapter's steps."
    ),
)
app.add_typer(
    lab_app,
    name="lab",
    help="Docker and minikube for the course: doctor, mirror, manifests, steps.",
)


class Chapter(str, Enum):
    docker = "docker"
    minikube = "minikube"
    services = "services"
    cap = "cap"


OsRelease = Annotated[
    Path | None,
    typer.Option(
        "--os-release",
        envvar="CAPSIM_OS_RELEASE",
        help="os-release file to detect the distribution from (default /etc/os-release).",
        show_default=False,
    ),
]


@lab_app.command()
def doctor(
    chapter: Annotated[
        Chapter,
        typer.Option(
            "--chapter", "-c", help="What must be ready: docker < minikube < services, cap."
        ),
    ] = Chapter.cap,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    daemon_json: Annotated[
        Path, typer.Option("--daemon-json", help="docker's daemon.json to look for a mirror in.")
    ] = Path("/etc/docker/daemon.json"),
    os_release: OsRelease = None,
) -> None:
    """Check the machine for a chapter; print each check, its status and the fix.

    Exit code 0 when every check the chapter needs is ok, 1 otherwise. Needs
    no root: it only looks.
    """
    with user_errors():
        from capsim.lab.doctor import diagnose, render

        report = diagnose(chapter.value, os_release=os_release, daemon_json=daemon_json)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(render(report))
    raise typer.Exit(0 if report.ready else 1)


@lab_app.command()
def mirror(
    url: Annotated[str, typer.Argument(help="Mirror URL, e.g. https://<id>.mirror.aliyuncs.com")],
    daemon_json: Annotated[Path, typer.Option("--daemon-json", help="The file to edit.")] = Path(
        "/etc/docker/daemon.json"
    ),
) -> None:
    """Add a registry mirror to docker's daemon.json, keeping every other setting.

    Creates the file if absent, refuses a file that is not valid JSON, backs
    the old file up (daemon.json.bak, .bak.1, ...) and writes atomically.
    Running it twice changes nothing the second time.
    """
    import os

    with user_errors():
        from capsim.lab.mirror import add_mirror, restart_hint

        res = add_mirror(url, daemon_json)
    if not res.changed:
        typer.echo(f"{res.url} is already in {res.path}; nothing changed.")
        return
    verb = "created" if res.created else "updated"
    typer.echo(f"{verb} {res.path}: registry-mirrors = {json.dumps(list(res.mirrors))}")
    if res.backup is not None:
        typer.echo(f"the previous file is kept as {res.backup}")
    typer.echo("docker reads it only when it starts; restart it:")
    for line in restart_hint(os.geteuid() == 0):
        typer.echo(f"  {line}")


@lab_app.command()
def manifests(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write.")] = Path("capsim-k8s"),
    k8s_version: Annotated[
        str, typer.Option("--k8s-version", help="Kubernetes version to target, e.g. 1.32.")
    ] = DEFAULT_K8S,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Replace the folder if it exists.")
    ] = False,
    image: Annotated[
        str | None,
        typer.Option("--image", help="capsim image for the Job (default capsim:VERSION)."),
    ] = None,
    mysql_ip: Annotated[
        str | None,
        typer.Option(
            "--mysql-ip",
            help="Address of the MySQL outside the cluster (default 192.168.49.1: the host, "
            "as minikube's docker driver sees it).",
            show_default=False,
        ),
    ] = None,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Add the live CAP experiment: capsim serve replicas (StatefulSet, headless "
            "Service), a NetworkPolicy pair that cuts G1 from G2, and capsim live Jobs.",
        ),
    ] = False,
    policy: Annotated[
        str,
        typer.Option(
            "--policy", "-p",
            help="Policies the live Jobs run the story under, comma-separated (with --live).",
        ),
    ] = "cp,ap",
) -> None:
    """Write the course's Kubernetes objects as current YAML, one file per topic.

    Deployment and NodePort Service hello-minikube, LoadBalancer my-nginx, a
    Service without selector for an external MySQL (Endpoints or
    EndpointSlice), ClusterIP my-app with Ingress my-ingress
    (networking.k8s.io/v1), and a Job running capsim on the seed story.
    """
    with user_errors():
        from capsim.errors import OutputExistsError
        from capsim.lab import manifests as m

        if out.exists() and not force:  # say so before spending time on the schemas
            raise OutputExistsError(f"{out} already exists; pass --force to replace it")
        opts = m.options(k8s_version, image or m.DEFAULT_IMAGE, mysql_ip or m.DEFAULT_MYSQL_IP,
                         policies=tuple(p.strip() for p in policy.split(",") if p.strip()))
        sets = ("course", "live") if live else ("course",)
        files = m.build(opts, sets)
        checked = m.validate(files, opts.k8s)
        written = m.write(out, opts, force=force, sets=sets)
    typer.echo(f"wrote {len(written)} files into {out}/ for Kubernetes {opts.k8s}:")
    for path in written:
        typer.echo(f"  {path}")
    if checked:
        typer.echo(
            f"every object passed the Kubernetes {opts.k8s} schema (kubernetes-validate, strict)."
        )
    else:
        known = m.schema_versions()
        why = (
            "pip install kubernetes-validate to check them"
            if known is None
            else f"kubernetes-validate has schemas for {known[0]}..{known[-1]} only"
        )
        typer.echo(f"not schema-checked: {why}.")
    typer.echo(f"next: read {out}/README.md, then kubectl apply -f {out}/")


@lab_app.command()
def steps(
    chapter: Annotated[Chapter, typer.Argument(help="Which chapter.")],
    execute: Annotated[
        bool, typer.Option("--execute", help="Run the steps (default: only print them).")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Also run steps that need root or remove things.")
    ] = False,
    start: Annotated[
        int, typer.Option("--from", min=1, help="Start at this step number (to resume).")
    ] = 1,
    mirror_url: Annotated[
        str | None,
        typer.Option(
            "--mirror", help="Registry mirror to configure (docker) and pass to minikube."
        ),
    ] = None,
    k8s_version: Annotated[
        str,
        typer.Option("--k8s-version", help="Kubernetes version for kubectl, minikube, manifests."),
    ] = DEFAULT_K8S,
    manifests_dir: Annotated[
        Path, typer.Option("--manifests", help="Where the services chapter writes the manifests.")
    ] = Path("capsim-k8s"),
    os_release: OsRelease = None,
) -> None:
    """Print a chapter's commands in order, each explained; --execute runs them.

    minikube (and kubectl where no package repository serves it) are
    downloaded from a domestic mirror with a sha256 check and installed in
    ~/.local/bin, or in /usr/local/bin with --yes.

    Commands run as argument lists (never through a shell) and stop at the
    first failure, showing its stderr. Steps that need root or remove
    something also need --yes; they are marked in the listing.
    """
    with user_errors():
        from capsim.lab import steps as s
        from capsim.lab.commands import Context
        from capsim.lab.manifests import DEFAULT_IMAGE
        from capsim.lab.mirror import normalise_url
        from capsim.lab.versions import k8s_minor

        try:
            k8s = k8s_minor(k8s_version)
        except ValueError as exc:
            raise die(f"--k8s-version: {exc}") from None
        url = normalise_url(mirror_url) if mirror_url else None
        ctx = Context.detect(os_release=os_release, mirror=url)
        settings = s.Settings(k8s=k8s, manifests_dir=str(manifests_dir), image=DEFAULT_IMAGE,
                              system_bin=yes)
        ch = s.chapter(chapter.value, ctx, settings)
        if start > len(ch.steps):
            raise die(f"--from {start}: chapter {ch.name} has steps 1 to {len(ch.steps)}")
        if not execute:
            typer.echo(s.render(ch, ctx, start=start))
            return

        def resume(i: int) -> str:
            flags = " --yes" if yes else ""
            return f"capsim lab steps {ch.name} --execute{flags} --from {i}"

        code = s.execute(ch, yes=yes, start=start, echo=typer.echo, resume_hint=resume)
    raise typer.Exit(code)


class Tool(str, Enum):
    minikube = "minikube"
    kubectl = "kubectl"


@lab_app.command()
def fetch(
    tool: Annotated[Tool, typer.Argument(help="Which binary.")],
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Folder to install into (default ~/.local/bin).",
                     show_default=False),
    ] = None,
    k8s_version: Annotated[
        str, typer.Option("--k8s-version", help="Kubernetes version of kubectl.")
    ] = DEFAULT_K8S,
    lang: Annotated[str | None, typer.Option("--lang", help=LANG_HELP,
                                             callback=check_lang)] = None,
) -> None:
    """Download minikube or kubectl from a domestic mirror (upstream as fallback), check its sha256.

    The mirror is DaoCloud's (files.m.daocloud.io), serving github.com and
    dl.k8s.io files under their upstream paths; the .sha256 file comes from
    the same source as the binary. Nothing is installed unless it matches.
    """
    with user_errors():
        from capsim.i18n import localize
        from capsim.lab import download
        from capsim.lab.commands import Context
        from capsim.lab.versions import k8s_minor

        try:
            k8s = k8s_minor(k8s_version)
        except ValueError as exc:
            raise die(f"--k8s-version: {exc}") from None
        dest = to.expanduser() if to is not None else download.default_bin_dir(False)
        arch = Context.detect().arch
        download.fetch(tool.value, dest, arch=arch, k8s=k8s,
                       echo=lambda line: typer.echo(localize(line, lang)))
        if not download.on_path(dest):
            typer.echo(localize(download.path_advice(dest), lang))
