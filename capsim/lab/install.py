"""How to install and start each tool on the student's distribution.

CentOS/RHEL get yum, as in the course; Debian/Ubuntu get apt. Package
repositories point at the Aliyun mirror (``mirrors.aliyun.com``), which is
what a classroom in China can reach quickly; the upstream address is named
in each explanation for everyone else. Every function returns
:class:`~capsim.lab.commands.Command` lists; an unknown distribution gets an
empty list and callers show the upstream documentation instead.
"""

from __future__ import annotations

from capsim.lab import download
from capsim.lab.commands import Command, Context
from capsim.lab.versions import DEFAULT_K8S

ALIYUN = "https://mirrors.aliyun.com"
DOCKER_YUM_REPO = f"{ALIYUN}/docker-ce/linux/centos/docker-ce.repo"
DOCKER_DOCS = "https://docs.docker.com/engine/install/"
KUBECTL_DOCS = "https://kubernetes.io/docs/tasks/tools/#kubectl"
MINIKUBE_DOCS = "https://minikube.sigs.k8s.io/docs/start/"
CENTOS7_VAULT_REPO = f"{ALIYUN}/repo/Centos-7.repo"

_OLD_DOCKER_RPMS = (
    "docker",
    "docker-client",
    "docker-client-latest",
    "docker-common",
    "docker-latest",
    "docker-latest-logrotate",
    "docker-logrotate",
    "docker-engine",
)
_OLD_DOCKER_DEBS = (
    "docker.io",
    "docker-doc",
    "docker-compose",
    "podman-docker",
    "containerd",
    "runc",
)
_DOCKER_PACKAGES = ("docker-ce", "docker-ce-cli", "containerd.io", "docker-buildx-plugin")


def remove_old_docker(ctx: Context) -> list[Command]:
    """Distribution docker packages conflict with docker-ce; the course removes them first."""
    why = "remove the distribution's old docker packages, which conflict with docker-ce"
    if ctx.distro.family == "rhel":
        return [
            Command(
                ctx.sudo("yum", "remove", "-y", *_OLD_DOCKER_RPMS),
                why,
                "'Removed: ...', or 'No Match for argument' when there is nothing to remove",
                privileged=True,
                destructive=True,
            ),
        ]
    if ctx.distro.family == "debian":
        return [
            # apt-get remove fails on a name it has never heard of: read the lists first.
            Command(
                ctx.sudo("apt-get", "update"),
                "refresh the package lists",
                "'Reading package lists... Done'",
                privileged=True,
            ),
            Command(
                ctx.sudo("apt-get", "remove", "-y", *_OLD_DOCKER_DEBS),
                why,
                "'Removing ...', or 'is not installed, so not removed' for each",
                privileged=True,
                destructive=True,
            ),
        ]
    return []


def install_docker(ctx: Context) -> list[Command]:
    """docker-ce from Docker's own repository, through the Aliyun mirror of it.

    Always preceded by :func:`remove_old_docker`.
    """
    d = ctx.distro
    if d.family == "rhel":
        return [
            Command(
                ctx.sudo("yum", "install", "-y", "yum-utils"),
                "yum-utils provides yum-config-manager, used to add the repository",
                "'Complete!' (or 'Nothing to do')",
                privileged=True,
            ),
            Command(
                ctx.sudo("yum-config-manager", "--add-repo", DOCKER_YUM_REPO),
                "add docker-ce's yum repository (Aliyun mirror of download.docker.com)",
                "'repo saved to /etc/yum.repos.d/docker-ce.repo'",
                privileged=True,
            ),
            Command(
                ctx.sudo("yum", "install", "-y", *_DOCKER_PACKAGES),
                "install the docker engine, its client and containerd",
                "'Complete!'; the GPG key imported has fingerprint "
                "060A 61C5 1B55 8A7F 742B 77AA C52F EB6B 621E 9F35",
                privileged=True,
            ),
        ]
    if d.family == "debian":
        base = f"{ALIYUN}/docker-ce/linux/{d.apt_id}"
        codename = d.codename or "<release-codename>"
        key = "/etc/apt/keyrings/docker.asc"
        source = f"deb [arch={ctx.arch} signed-by={key}] {base} {codename} stable\n"
        return [  # after remove_old_docker, which refreshed the package lists
            Command(
                ctx.sudo("apt-get", "install", "-y", "ca-certificates", "curl"),
                "tools to fetch the repository key over HTTPS",
                "'0 newly installed' or the packages being set up",
                privileged=True,
            ),
            Command(
                ctx.sudo("install", "-m", "0755", "-d", "/etc/apt/keyrings"),
                "the folder apt reads repository keys from",
                "no output",
                privileged=True,
            ),
            Command(
                ctx.sudo("curl", "-fsSL", f"{base}/gpg", "-o", key),
                "Docker's signing key (Aliyun mirror of download.docker.com)",
                "no output",
                privileged=True,
            ),
            Command(
                ctx.sudo("tee", "/etc/apt/sources.list.d/docker.list"),
                "add docker-ce's apt repository",
                "the 'deb [...]' line echoed back",
                stdin=source,
                privileged=True,
            ),
            Command(
                ctx.sudo("apt-get", "update"),
                "read the new repository",
                f"a line mentioning {base}",
                privileged=True,
            ),
            Command(
                ctx.sudo("apt-get", "install", "-y", *_DOCKER_PACKAGES),
                "install the docker engine, its client and containerd",
                "'Setting up docker-ce'",
                privileged=True,
            ),
        ]
    return []


def start_docker(ctx: Context) -> list[Command]:
    """Start the daemon now and at every boot."""
    return [
        Command(
            ctx.sudo("systemctl", "enable", "--now", "docker"),
            "start the docker daemon now and at every boot",
            "'Created symlink ... docker.service' (or no output when already enabled)",
            privileged=True,
        )
    ]


def restart_docker(ctx: Context) -> list[Command]:
    """The daemon reads ``daemon.json`` only when it starts."""
    return [
        Command(
            ctx.sudo("systemctl", "daemon-reload"),
            "make systemd re-read its unit files",
            "no output",
            privileged=True,
        ),
        Command(
            ctx.sudo("systemctl", "restart", "docker"),
            "restart docker so it reads /etc/docker/daemon.json again",
            "no output; then `docker info` lists the mirror under 'Registry Mirrors'",
            privileged=True,
        ),
    ]


def configure_mirror(
    ctx: Context, url: str, daemon_json: str = "/etc/docker/daemon.json"
) -> list[Command]:
    """``capsim lab mirror`` through sudo, with the interpreter's absolute path."""
    argv = ctx.capsim("lab", "mirror", url)
    if daemon_json != "/etc/docker/daemon.json":
        argv = (*argv, "--daemon-json", daemon_json)
    return [
        Command(
            ctx.sudo(*argv),
            f"add {url} to registry-mirrors in {daemon_json}, keeping every other setting",
            "'added ...' or 'already configured'",
            privileged=True,
        ),
        *restart_docker(ctx),
    ]


def join_docker_group(ctx: Context) -> list[Command]:
    """So the student can run docker without sudo (after logging in again)."""
    if ctx.is_root or ctx.in_docker_group:
        return []
    return [
        Command(
            ("sudo", "usermod", "-aG", "docker", ctx.user),
            f"let {ctx.user} use docker without sudo (takes effect at the next login)",
            "no output; log out and back in, then `id` lists 'docker'",
            privileged=True,
        )
    ]


def install_kubectl(ctx: Context, k8s: str = DEFAULT_K8S) -> list[Command]:
    """Install kubectl from the Kubernetes package repository (pkgs.k8s.io), Aliyun mirror."""
    d = ctx.distro
    base = f"{ALIYUN}/kubernetes-new/core/stable/v{k8s}"
    if d.family == "rhel":
        repo = (
            "[kubernetes]\n"
            "name=Kubernetes\n"
            f"baseurl={base}/rpm/\n"
            "enabled=1\n"
            "gpgcheck=1\n"
            f"gpgkey={base}/rpm/repodata/repomd.xml.key\n"
        )
        return [
            Command(
                ctx.sudo("tee", "/etc/yum.repos.d/kubernetes.repo"),
                f"add the Kubernetes v{k8s} yum repository (Aliyun mirror of pkgs.k8s.io)",
                "the repository text echoed back",
                stdin=repo,
                privileged=True,
            ),
            Command(
                ctx.sudo("yum", "install", "-y", "kubectl"),
                "install kubectl",
                "'Complete!'",
                privileged=True,
            ),
        ]
    if d.family == "debian":
        source = f"deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.asc] {base}/deb/ /\n"
        return [
            Command(
                ctx.sudo("install", "-m", "0755", "-d", "/etc/apt/keyrings"),
                "the folder apt reads repository keys from",
                "no output",
                privileged=True,
            ),
            Command(
                ctx.sudo(
                    "curl",
                    "-fsSL",
                    f"{base}/deb/Release.key",
                    "-o",
                    "/etc/apt/keyrings/kubernetes-apt-keyring.asc",
                ),
                "the Kubernetes repository's signing key",
                "no output",
                privileged=True,
            ),
            Command(
                ctx.sudo("tee", "/etc/apt/sources.list.d/kubernetes.list"),
                f"add the Kubernetes v{k8s} apt repository (Aliyun mirror of pkgs.k8s.io)",
                "the 'deb [...]' line echoed back",
                stdin=source,
                privileged=True,
            ),
            Command(
                ctx.sudo("apt-get", "update"),
                "read the new repository",
                "a line mentioning kubernetes-new",
                privileged=True,
            ),
            Command(
                ctx.sudo("apt-get", "install", "-y", "kubectl"),
                "install kubectl",
                "'Setting up kubectl'",
                privileged=True,
            ),
        ]
    return []


def fetch_binary(ctx: Context, tool: str, k8s: str = DEFAULT_K8S, *,
                 system: bool = False) -> list[Command]:
    """Download ``tool`` from the domestic mirror (upstream as fallback), sha256-checked.

    ``capsim lab fetch`` does the work (see :mod:`capsim.lab.download`): it
    installs into ``~/.local/bin`` without root, or into ``/usr/local/bin``
    through sudo when ``system`` (the student said ``--yes``).
    """
    dest = download.default_bin_dir(system)
    argv = ctx.capsim("lab", "fetch", tool, "--to", str(dest), "--k8s-version", k8s)
    version = download.MINIKUBE_VERSION if tool == "minikube" else f"v{k8s}.0"
    up = download.upstream_url(tool, ctx.arch, k8s)
    host = up.split("/")[2]
    return [
        Command(
            ctx.sudo(*argv) if system else argv,
            f"download {tool} {version} from DaoCloud's mirror of {host} ({download.DAOCLOUD}; "
            f"fallback: {up}), check it against the .sha256 file of the same source, and "
            f"install it as {dest / tool}",
            f"'{tool}: sha256 … matches …; installed {dest / tool}'",
            privileged=system,
            timeout=1800.0,
        )
    ]


def install_minikube(ctx: Context, k8s: str = DEFAULT_K8S, *,
                     system: bool = False) -> list[Command]:
    """The minikube binary (no distribution package exists), from a mirror, checksum-verified."""
    return fetch_binary(ctx, "minikube", k8s, system=system)


def path_note(system: bool) -> str | None:
    """Advice when the install folder is not on PATH yet (``~/.local/bin`` often is not)."""
    dest = download.default_bin_dir(system)
    if download.on_path(dest):
        return None
    return (f"{dest} is not on your PATH: run  export PATH=\"{dest}:$PATH\"  (and add that "
            "line to ~/.bashrc) so `minikube` and `kubectl` are found")


def start_minikube(ctx: Context, k8s: str = DEFAULT_K8S) -> list[Command]:
    """A one-node cluster in a docker container, images from the Aliyun mirror."""
    argv = [
        "minikube",
        "start",
        "--driver=docker",
        f"--kubernetes-version=v{k8s}.0",
        "--image-mirror-country=cn",
    ]
    if ctx.mirror:
        argv.append(f"--registry-mirror={ctx.mirror}")
    explain = "start a one-node Kubernetes cluster inside docker (images from the Aliyun mirror)"
    if ctx.is_root:
        argv.append("--force")
        explain += (
            "; --force because the docker driver refuses root otherwise (better: a normal user)"
        )
    return [
        Command(
            tuple(argv),
            explain,
            "'Done! kubectl is now configured to use \"minikube\" cluster'",
            timeout=1800.0,
        )
    ]


def time_sync(ctx: Context) -> list[Command]:
    """Install chrony: TLS certificates and cluster leases need a correct clock."""
    service = "chronyd" if ctx.distro.family == "rhel" else "chrony"
    if ctx.distro.family == "rhel":
        install = ctx.sudo("yum", "install", "-y", "chrony")
    elif ctx.distro.family == "debian":
        install = ctx.sudo("apt-get", "install", "-y", "chrony")
    else:
        return []
    return [
        Command(
            install,
            "install chrony, an NTP client",
            "'Complete!' / 'Setting up chrony'",
            privileged=True,
        ),
        Command(
            ctx.sudo("systemctl", "enable", "--now", service),
            "start it now and at boot",
            "no output; `timedatectl` then says 'System clock synchronized: yes'",
            privileged=True,
        ),
    ]
