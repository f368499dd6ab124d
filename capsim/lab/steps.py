"""``capsim lab steps CHAPTER``: a chapter's commands, in order, explained.

By default the steps are printed (a dry run) so a student can read and type
them. ``--execute`` runs them one by one as argument lists, showing each
program's output, and stops at the first failure with its stderr and the
command to resume from there. Steps that need root or remove things run
only with ``--yes`` as well, and the refusal names them before anything runs.

The course's 2018 commands are brought up to date: ``kubectl run`` now makes a
single Pod, so Deployments come from ``kubectl create deployment``; the
Ingress is ``networking.k8s.io/v1``; ``training/webapp`` (a schema-1 image
current docker cannot pull) becomes ``python -m http.server``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from capsim.errors import CapsimError
from capsim.lab import install, manifests, runner
from capsim.lab.commands import Command, Context
from capsim.lab.k8s import Settings
from capsim.lab.live import live_steps

NGINX = manifests.NGINX_IMAGE
MYSQL_IMAGE = "mysql:8.0"
MYSQL_PASSWORD = "capsim-lab"
PYTHON_IMAGE = "python:3.11-slim"
TOMCAT_IMAGE = "tomcat:9.0"
CURL_IMAGE = "curlimages/curl:8.11.1"
WEB_ROOT = "capsim-www"


class StepsError(CapsimError):
    """The steps cannot run as asked (e.g. privileged steps without ``--yes``)."""


@dataclass(frozen=True)
class Chapter:
    name: str
    title: str
    steps: tuple[Command, ...]
    notes: tuple[str, ...] = ()


def _docker(
    ctx: Context,
    args: Sequence[str],
    explain: str,
    expect: str,
    *,
    destructive: bool = False,
    timeout: float = 900.0,
) -> Command:
    return Command(
        ctx.docker(*args),
        explain,
        expect,
        privileged=ctx.docker_needs_sudo,
        destructive=destructive,
        timeout=timeout,
    )


def _curl(url: str) -> tuple[str, ...]:
    # --retry-connrefused: a container that was just started may not listen yet.
    return ("curl", "-sS", "--retry", "10", "--retry-connrefused", "--retry-delay", "1", url)


def docker_chapter(ctx: Context, settings: Settings) -> Chapter:
    www = ctx.cwd / WEB_ROOT
    notes: list[str] = []
    steps: list[Command] = [*install.remove_old_docker(ctx), *install.install_docker(ctx)]
    if not steps:
        notes.append(
            f"no install commands for {ctx.distro.name}: follow {install.DOCKER_DOCS}, "
            "then run these steps with --from at the first `docker run`"
        )
    steps += install.start_docker(ctx)
    if ctx.mirror:
        steps += install.configure_mirror(ctx, ctx.mirror)
    else:
        notes.append(
            "registry-mirror step left out: add --mirror https://<your-id>.mirror.aliyuncs.com "
            "(your accelerator address) to include it"
        )
    group = install.join_docker_group(ctx)
    steps += group
    if group:
        notes.append(f"until {ctx.user} logs in again, the docker commands below go through sudo")
    steps += [
        _docker(
            ctx,
            ("run", "--rm", "hello-world"),
            "the classic first container: pulls a tiny image and runs it",
            "'Hello from Docker!'",
        ),
        Command(
            ("mkdir", "-p", str(www)), "a web root on the host for nginx to serve", "no output"
        ),
        Command(
            ("tee", str(www / "index.html")),
            "its home page",
            "the HTML echoed back",
            stdin="<h1>Hello from the capsim lab</h1>\n",
        ),
        _docker(
            ctx,
            (
                "run",
                "-d",
                "--name",
                "web",
                "-p",
                "8080:80",
                "-v",
                f"{www}:/usr/share/nginx/html:ro",
                NGINX,
            ),
            "nginx serving the host folder (-v HOST:CONTAINER:ro) on host port 8080",
            "a 64-character container id",
        ),
        Command(
            _curl("http://127.0.0.1:8080/"),
            "ask nginx for the page",
            "'<h1>Hello from the capsim lab</h1>'",
        ),
        _docker(
            ctx,
            (
                "run",
                "-d",
                "--name",
                "webapp",
                "-P",
                "--expose",
                "5000",
                PYTHON_IMAGE,
                "python",
                "-m",
                "http.server",
                "5000",
            ),
            "a Python web app; -P publishes its exposed port 5000 on a random host port "
            "(the course's training/webapp image can no longer be pulled)",
            "a container id",
        ),
        _docker(
            ctx,
            ("port", "webapp", "5000"),
            "which host port did -P choose?",
            "'0.0.0.0:32768' (some port above 32767)",
        ),
        _docker(
            ctx,
            (
                "run",
                "-d",
                "--name",
                "webapp-local",
                "-p",
                "127.0.0.1:5001:5000",
                PYTHON_IMAGE,
                "python",
                "-m",
                "http.server",
                "5000",
            ),
            "the same app published on 127.0.0.1:5001 only (not reachable from other machines)",
            "a container id",
        ),
        Command(
            _curl("http://127.0.0.1:5001/"), "ask it for its page", "'Directory listing for /'"
        ),
        _docker(
            ctx,
            (
                "run",
                "-d",
                "--name",
                "mysql",
                "-e",
                f"MYSQL_ROOT_PASSWORD={MYSQL_PASSWORD}",
                "-p",
                "3306:3306",
                MYSQL_IMAGE,
            ),
            "MySQL with a root password from the environment, on port 3306 "
            "(the services chapter reaches it from the cluster: keep it running)",
            "a container id; `docker logs mysql` ends with 'ready for connections'",
        ),
        _docker(
            ctx,
            ("run", "-d", "--name", "tomcat", "-p", "8888:8080", TOMCAT_IMAGE),
            "Tomcat on host port 8888",
            "a container id",
        ),
        _docker(
            ctx,
            ("ps",),
            "every running container",
            "web, webapp, webapp-local, mysql and tomcat with STATUS 'Up ...'",
        ),
        _docker(
            ctx,
            ("rm", "-f", "web", "webapp", "webapp-local", "tomcat"),
            "remove this chapter's containers (mysql stays for the services chapter)",
            "the four names echoed back",
            destructive=True,
        ),
    ]
    return Chapter(
        "docker", "install docker and run the course's containers", tuple(steps), tuple(notes)
    )


def minikube_chapter(ctx: Context, settings: Settings) -> Chapter:
    k8s = settings.k8s
    notes: list[str] = []
    kubectl = install.install_kubectl(ctx, k8s)
    if not kubectl:  # no package repository for this distribution: the checked binary
        kubectl = install.fetch_binary(ctx, "kubectl", k8s, system=settings.system_bin)
    on_path = install.path_note(settings.system_bin)
    if on_path:
        notes.append(on_path)
    steps: list[Command] = [
        *kubectl,
        Command(
            ("kubectl", "version", "--client"),
            "kubectl is installed",
            f"'Client Version: v{k8s}.…'",
        ),
        *install.install_minikube(ctx, k8s, system=settings.system_bin),
        Command(("minikube", "version"), "minikube is installed", "'minikube version: v1.…'"),
        *install.start_minikube(ctx, k8s),
        Command(
            ("minikube", "status"),
            "the cluster's parts are up",
            "host: Running, kubelet: Running, apiserver: Running",
        ),
        Command(
            ("kubectl", "get", "nodes"),
            "kubectl talks to the cluster",
            "one node 'minikube' with STATUS 'Ready'",
        ),
        Command(
            ("kubectl", "create", "deployment", "hello-minikube", f"--image={NGINX}", "--port=80"),
            "a Deployment of nginx; in 2018 `kubectl run` did this, today it makes a bare Pod",
            "'deployment.apps/hello-minikube created'",
        ),
        Command(
            ("kubectl", "expose", "deployment", "hello-minikube", "--type=NodePort", "--port=80"),
            "a NodePort Service in front of it",
            "'service/hello-minikube exposed'",
        ),
        Command(
            ("kubectl", "rollout", "status", "deployment/hello-minikube", "--timeout=300s"),
            "wait until the Pod runs (the first image pull takes a while)",
            "'deployment \"hello-minikube\" successfully rolled out'",
            timeout=330.0,
        ),
        Command(
            ("kubectl", "get", "deployments,pods,services", "-l", "app=hello-minikube"),
            "what was made",
            "1/1 READY, a Pod 'Running', a Service of TYPE NodePort 80:3xxxx/TCP",
        ),
        Command(
            ("kubectl", "describe", "service", "hello-minikube"),
            "the Service in detail",
            "'Type: NodePort' and 'Endpoints: 10.244.…:80'",
        ),
        Command(
            ("minikube", "service", "hello-minikube", "--url"),
            "the URL to open in a browser",
            "'http://192.168.49.2:3xxxx'",
        ),
    ]
    return Chapter(
        "minikube",
        "install kubectl and minikube, deploy and expose nginx",
        tuple(steps),
        tuple(notes),
    )


def _manifest(settings: Settings, name: str) -> str:
    return str(Path(settings.manifests_dir) / name)


def services_chapter(ctx: Context, settings: Settings) -> Chapter:
    d = settings.manifests_dir
    steps = [
        Command(
            ctx.capsim(
                "lab",
                "manifests",
                "--out",
                d,
                "--k8s-version",
                settings.k8s,
                "--image",
                settings.image,
            ),
            f"write the course's objects as current YAML into {d}/ (read them!)",
            f"'wrote … files into {d}'; if {d} exists already, delete it or resume with --from 2",
        ),
        Command(
            ("kubectl", "apply", "-f", _manifest(settings, "04-my-app-clusterip.yaml")),
            "ClusterIP: the default Service type, reachable only inside the cluster",
            "'deployment.apps/my-app created', 'service/my-app created'",
        ),
        Command(
            ("kubectl", "get", "service", "my-app"),
            "its cluster-internal address",
            "TYPE 'ClusterIP', EXTERNAL-IP '<none>', PORT(S) '80/TCP'",
        ),
        Command(
            ("kubectl", "apply", "-f", _manifest(settings, "03-external-mysql.yaml")),
            "a Service without selector whose endpoints name the MySQL from the docker chapter",
            "'service/external-mysql created' and its endpoints",
        ),
        Command(
            ("kubectl", "describe", "service", "external-mysql"),
            "no selector, but endpoints written by hand",
            f"'Selector: <none>' and 'Endpoints: {manifests.DEFAULT_MYSQL_IP}:3306'",
        ),
        Command(
            ("kubectl", "get", "endpointslices", "-l", "kubernetes.io/service-name=external-mysql"),
            "the EndpointSlice kube-proxy reads (mirrored from Endpoints, or written by hand)",
            f"ADDRESSTYPE IPv4, PORTS 3306, ENDPOINTS {manifests.DEFAULT_MYSQL_IP}",
        ),
        Command(
            (
                "kubectl",
                "run",
                "mysql-client",
                "--rm",
                "-i",
                "--restart=Never",
                f"--image={MYSQL_IMAGE}",
                "--",
                "mysql",
                "-h",
                "external-mysql",
                "-uroot",
                f"-p{MYSQL_PASSWORD}",
                "-e",
                "SELECT VERSION();",
            ),
            "a Pod (what `kubectl run` makes today) connects to MySQL through the Service",
            "'VERSION()' and '8.0.…' (needs the docker chapter's mysql container running)",
            timeout=600.0,
        ),
        Command(
            ("kubectl", "apply", "-f", _manifest(settings, "01-hello-minikube.yaml")),
            "NodePort: the minikube chapter's Deployment and Service, now as YAML",
            "'configured' or 'unchanged' (a warning about last-applied-configuration is normal)",
        ),
        Command(
            ("minikube", "service", "hello-minikube", "--url"),
            "a NodePort is open on the node's address",
            "'http://192.168.49.2:3xxxx'",
        ),
        Command(
            ("kubectl", "apply", "-f", _manifest(settings, "02-my-nginx-loadbalancer.yaml")),
            "LoadBalancer: two nginx replicas behind a cloud load balancer",
            "'deployment.apps/my-nginx created', 'service/my-nginx created'",
        ),
        Command(
            ("kubectl", "get", "service", "my-nginx"),
            "its external address",
            "EXTERNAL-IP '<pending>' until `minikube tunnel` runs in another terminal",
        ),
        Command(
            ("minikube", "addons", "enable", "ingress"),
            "an Ingress controller (ingress-nginx)",
            "'The 'ingress' addon is enabled'",
            timeout=600.0,
        ),
        Command(
            (
                "kubectl",
                "wait",
                "--namespace",
                "ingress-nginx",
                "--for=condition=ready",
                "pod",
                "--selector=app.kubernetes.io/component=controller",
                "--timeout=300s",
            ),
            "wait for the controller",
            "'pod/ingress-nginx-controller-… condition met'",
            timeout=330.0,
        ),
        Command(
            ("kubectl", "apply", "-f", _manifest(settings, "05-my-ingress.yaml")),
            "Ingress: host my.example.com, path /app -> my-app:80 (networking.k8s.io/v1)",
            "'ingress.networking.k8s.io/my-ingress created'",
        ),
        Command(
            ("kubectl", "get", "ingress", "my-ingress"),
            "the route",
            "CLASS nginx, HOSTS my.example.com, ADDRESS 192.168.49.2 (after a minute)",
        ),
        Command(
            (
                "kubectl",
                "run",
                "ingress-check",
                "--rm",
                "-i",
                "--restart=Never",
                f"--image={CURL_IMAGE}",
                "--",
                "curl",
                "-sS",
                "-H",
                "Host: my.example.com",
                "http://ingress-nginx-controller.ingress-nginx.svc.cluster.local/app",
            ),
            "ask the Ingress for my.example.com/app from inside the cluster",
            "'Welcome to nginx!' (served by my-app)",
            timeout=600.0,
        ),
    ]
    return Chapter(
        "services", "ClusterIP, external endpoints, NodePort, LoadBalancer, Ingress", tuple(steps)
    )


def cap_chapter(ctx: Context, settings: Settings) -> Chapter:
    src = ctx.source_dir or ctx.cwd
    steps = [
        Command(
            (
                "minikube",
                "image",
                "build",
                "-t",
                settings.image,
                "-f",
                str(src / "Containerfile"),
                str(src),
            ),
            "build the capsim image inside minikube (no registry needed)",
            f"'naming to docker.io/library/{settings.image}'",
            timeout=1800.0,
        ),
        Command(
            ("kubectl", "apply", "-f", _manifest(settings, "06-capsim-job.yaml")),
            "the seed CAP story in a ConfigMap and a Job that runs `capsim run` on it "
            "(the file comes from the services chapter's first step)",
            "'configmap/capsim-scenario created', 'job.batch/capsim-partition created'",
        ),
        Command(
            (
                "kubectl",
                "wait",
                "--for=condition=complete",
                "job/capsim-partition",
                "--timeout=300s",
            ),
            "wait for the simulation to finish",
            "'job.batch/capsim-partition condition met'",
            timeout=330.0,
        ),
        Command(
            ("kubectl", "logs", "job/capsim-partition"),
            "capsim's report",
            "a table for cp and ap: cp refuses bob's read during the partition, "
            "ap answers the stale v0",
        ),
    ]
    steps += live_steps(ctx, settings)  # then the same story on real replica pods
    notes = (
        ()
        if ctx.source_dir
        else ("run from the capsim source folder (the one holding Containerfile)",)
    )
    return Chapter("cap", "run the capsim simulator itself in the cluster", tuple(steps), notes)


CHAPTER_BUILDERS: dict[str, Callable[[Context, Settings], Chapter]] = {
    "docker": docker_chapter,
    "minikube": minikube_chapter,
    "services": services_chapter,
    "cap": cap_chapter,
}


def chapter(name: str, ctx: Context, settings: Settings | None = None) -> Chapter:
    if name not in CHAPTER_BUILDERS:
        raise StepsError(f"unknown chapter {name!r}; choose from {', '.join(CHAPTER_BUILDERS)}")
    return CHAPTER_BUILDERS[name](ctx, settings or Settings())


def render(ch: Chapter, ctx: Context, *, start: int = 1) -> str:
    """The dry run: every step with its number, marks, explanation and what to look for."""
    d = ctx.distro
    pm = f", {d.package_manager}" if d.package_manager else ""
    lines = [
        f"capsim lab steps {ch.name}: {ch.title}",
        f"{len(ch.steps)} steps for {d.name}{pm}. Dry run: nothing is executed.",
        "Add --execute to run them; steps marked [root] or [destructive] also need --yes.",
    ]
    lines += [f"note: {n}" for n in ch.notes]
    for i, step in enumerate(ch.steps, 1):
        if i < start:
            continue
        marks = f"[{', '.join(step.marks)}] " if step.marks else ""
        rendered = step.render().splitlines()
        lines.append("")
        lines.append(f"{i:2d}. {marks}{rendered[0]}")
        lines.extend(f"      {extra}" for extra in rendered[1:])
        lines.append(f"      why:    {step.explain}")
        if step.expect:
            lines.append(f"      expect: {step.expect}")
    return "\n".join(lines)


def execute(
    ch: Chapter,
    *,
    yes: bool,
    start: int = 1,
    echo: Callable[[str], None] = print,
    resume_hint: Callable[[int], str] | None = None,
) -> int:
    """Run steps ``start..`` in order; 0 when all worked, 1 at the first failure.

    Refuses (before running anything) when a selected step needs ``--yes``
    and it was not given, naming those steps.
    """
    if not 1 <= start <= len(ch.steps):
        raise StepsError(f"--from {start}: chapter {ch.name} has steps 1 to {len(ch.steps)}")
    selected = list(enumerate(ch.steps, 1))[start - 1 :]
    gated = [(i, s) for i, s in selected if s.needs_yes]
    if gated and not yes:
        listed = "\n".join(
            f"  {i:2d}. [{', '.join(s.marks)}] {s.render().splitlines()[0]}" for i, s in gated
        )
        raise StepsError(
            f"{len(gated)} of these steps need root or remove things, so --execute alone "
            f"will not run them:\n{listed}\nRead them (run without --execute), then add --yes "
            "to run the chapter."
        )
    for i, step in selected:
        echo(f"==> [{i}/{len(ch.steps)}] {step.render().splitlines()[0]}")
        res = runner.stream(
            step.argv,
            on_line=lambda line: echo(f"    {line}"),
            timeout=step.timeout,
            stdin=step.stdin,
        )
        if res.ok:
            for line in res.stderr.strip().splitlines():
                echo(f"    {line}")
            continue
        echo(f"step {i} failed: {res.describe_failure()}")
        if res.stderr.strip():
            echo("stderr:")
            for line in res.stderr.rstrip().splitlines():
                echo(f"    {line}")
        echo(f"expected: {step.expect}" if step.expect else "")
        if resume_hint is not None:
            echo(f"fix it, then resume from this step: {resume_hint(i)}")
        return 1
    echo(f"all {len(selected)} steps of chapter {ch.name} worked.")
    return 0
