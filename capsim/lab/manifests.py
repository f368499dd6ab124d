"""``capsim lab manifests``: the course's Kubernetes objects, as current valid YAML.

The 2018 course built these with ``kubectl run`` (which now creates a bare
Pod, not a Deployment) and an ``extensions/v1beta1`` Ingress (removed in
Kubernetes 1.22). Here each object is a plain dict built by a small function,
grouped into files a student applies in order. A *set* is a tuple of such
functions; ``course`` is the only set today, and a later set (e.g. the live
capsim cluster) is one more tuple in :data:`SETS` and one more CLI flag.

Nothing here talks to a cluster. :func:`validate` checks every object against
the Kubernetes OpenAPI schema of a version when ``kubernetes-validate`` is
installed (it is a test dependency, not a runtime one).
"""

from __future__ import annotations

import ipaddress
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from capsim import atomic
from capsim._version import __version__
from capsim.errors import CapsimError
from capsim.lab.k8s import (
    ALTERNATIVES,
    DEFAULT_IMAGE,
    DEFAULT_MYSQL_IP,
    PART_OF,
    ManifestFile,
    Obj,
    Options,
    seed_scenario_text,
)
from capsim.lab.k8s import meta as _meta
from capsim.lab.versions import DEFAULT_K8S, ENDPOINTS_DEPRECATED, MIN_K8S, k8s_minor

NGINX_IMAGE = "nginx:1.27"
INGRESS_CLASS = "nginx"
"""The class of minikube's ``ingress`` addon (ingress-nginx)."""
SCENARIO_MOUNT = "/scenario"
class ManifestError(CapsimError):
    """Bad ``manifests`` option (version, address...)."""


def options(
    k8s: str = DEFAULT_K8S,
    image: str = DEFAULT_IMAGE,
    mysql_ip: str = DEFAULT_MYSQL_IP,
    scenario: str = "",
    policies: tuple[str, ...] = ("cp", "ap"),
) -> Options:
    """Validated :class:`Options`; every problem is a :class:`ManifestError` naming the option."""
    from capsim.policies import REGISTRY

    unknown = [p for p in policies if p not in REGISTRY]
    if unknown or not policies:
        raise ManifestError(f"--policy {','.join(policies)!s}: unknown policy "
                            f"{', '.join(map(repr, unknown)) or '(none given)'}; "
                            f"valid policies: {', '.join(REGISTRY)}")
    try:
        minor = k8s_minor(k8s)
    except ValueError as exc:
        raise ManifestError(f"--k8s-version: {exc}") from None
    opts = Options(minor, image, mysql_ip, scenario, tuple(policies))
    if opts.k8s_tuple < MIN_K8S:
        floor = ".".join(map(str, MIN_K8S))
        raise ManifestError(
            f"--k8s-version {minor}: these manifests need Kubernetes >= {floor} "
            "(networking.k8s.io/v1 Ingress, discovery.k8s.io/v1 EndpointSlice, Job TTL); "
            "the course's extensions/v1beta1 Ingress was removed in 1.22. Upgrade the cluster "
            f"(minikube start --kubernetes-version=v{DEFAULT_K8S}.0)"
        )
    if not image.strip() or any(c.isspace() for c in image):
        raise ManifestError(
            f"--image {image!r}: an image reference has no spaces, e.g. capsim:0.1.0"
        )
    try:
        ip = ipaddress.ip_address(mysql_ip)
    except ValueError:
        raise ManifestError(f"--mysql-ip {mysql_ip!r} is not an IP address") from None
    if (
        ip.version != 4
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_multicast
    ):
        raise ManifestError(
            f"--mysql-ip {mysql_ip}: the API server rejects loopback, link-local, multicast and "
            "unspecified endpoint addresses (and these manifests are IPv4); use the MySQL host's "
            f"address as the cluster sees it (minikube with docker: {DEFAULT_MYSQL_IP})"
        )
    return opts


# --- object builders --------------------------------------------------------------


def deployment(name: str, image: str, port: int, replicas: int = 1) -> Obj:
    """What ``kubectl create deployment NAME --image=IMAGE --port=PORT`` makes, plus a probe."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, app=name),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": image.split("/")[-1].split(":")[0],
                            "image": image,
                            "ports": [{"name": "http", "containerPort": port}],
                            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
                        }
                    ]
                },
            },
        },
    }


def service(
    name: str,
    svc_type: str,
    port: int,
    target: int,
    *,
    selector: bool = True,
    port_name: str = "http",
) -> Obj:
    """A Service; ``selector=False`` for one whose endpoints are written by hand."""
    spec: Obj = {
        "type": svc_type,
        "ports": [{"name": port_name, "protocol": "TCP", "port": port, "targetPort": target}],
    }
    if selector:
        spec["selector"] = {"app": name}
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, app=name), "spec": spec}


def hello_minikube(opts: Options) -> list[ManifestFile]:
    return [
        ManifestFile(
            "01-hello-minikube.yaml",
            "The course's first Deployment (nginx on port 80) and its NodePort Service.",
            "2018: kubectl run hello-minikube --image=... --port=...; "
            "kubectl expose deployment hello-minikube --type=NodePort\n"
            "now:  kubectl create deployment hello-minikube --image=nginx --port=80; "
            "kubectl expose deployment hello-minikube --type=NodePort --port=80",
            (
                deployment("hello-minikube", NGINX_IMAGE, 80),
                service("hello-minikube", "NodePort", 80, 80),
            ),
            ("open it: minikube service hello-minikube --url",),
        )
    ]


def my_nginx(opts: Options) -> list[ManifestFile]:
    return [
        ManifestFile(
            "02-my-nginx-loadbalancer.yaml",
            "Two nginx replicas behind a LoadBalancer Service.",
            "2018: kubectl run my-nginx --image=nginx --replicas=2 --port=80; "
            "kubectl expose deployment my-nginx --port=80 --type=LoadBalancer\n"
            "now:  kubectl create deployment my-nginx --image=nginx --replicas=2 --port=80; "
            "kubectl expose deployment my-nginx --port=80 --type=LoadBalancer",
            (
                deployment("my-nginx", NGINX_IMAGE, 80, replicas=2),
                service("my-nginx", "LoadBalancer", 80, 80),
            ),
            (
                "minikube has no cloud load balancer: EXTERNAL-IP stays <pending> until "
                "`minikube tunnel` runs in another terminal",
            ),
        )
    ]


def external_mysql(opts: Options) -> list[ManifestFile]:
    """A Service without selector; its endpoints name a MySQL outside the cluster.

    Endpoints (the course's way) and EndpointSlice (its replacement) describe
    the same thing; only one of them goes in the top-level folder: Endpoints
    before 1.33, EndpointSlice from 1.33, when the API server starts warning
    on every use of ``v1 Endpoints``.
    """
    name = "external-mysql"
    svc = service(name, "ClusterIP", 3306, 3306, selector=False, port_name="mysql")
    endpoints: Obj = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": _meta(name, app=name),
        "subsets": [
            {
                "addresses": [{"ip": opts.mysql_ip}],
                "ports": [{"name": "mysql", "port": 3306, "protocol": "TCP"}],
            }
        ],
    }
    slice_: Obj = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{name}-1",
            "labels": {
                "kubernetes.io/service-name": name,
                "endpointslice.kubernetes.io/managed-by": "capsim-lab",
                "app": name,
                **PART_OF,
            },
        },
        "addressType": "IPv4",
        "ports": [{"name": "mysql", "port": 3306, "protocol": "TCP"}],
        "endpoints": [{"addresses": [opts.mysql_ip], "conditions": {"ready": True}}],
    }
    course = (
        "2018: a Service without selector plus an Endpoints object naming the MySQL host "
        "(unchanged, still valid)"
    )
    differ = (
        "Endpoints (v1, one object per Service) is what the course used; EndpointSlice "
        "(discovery.k8s.io/v1) replaces it: sliced for big Services, dual-stack, and the only "
        "kind kube-proxy reads today (the API server mirrors a hand-written Endpoints into "
        "a slice). From Kubernetes 1.33 every use of v1 Endpoints prints a deprecation warning. "
        "Apply one or the other, not both."
    )
    check = f"check: kubectl describe service {name}   (Endpoints: {opts.mysql_ip}:3306)"
    with_endpoints = ManifestFile(
        "03-external-mysql.yaml",
        f"A Service without selector for a MySQL outside the cluster at {opts.mysql_ip}:3306, "
        "with an Endpoints object.",
        course,
        (svc, endpoints),
        (differ, check),
    )
    with_slice = ManifestFile(
        "03-external-mysql.yaml",
        f"A Service without selector for a MySQL outside the cluster at {opts.mysql_ip}:3306, "
        "with an EndpointSlice.",
        course + "; EndpointSlice replaces Endpoints",
        (svc, slice_),
        (differ, check),
    )
    if opts.k8s_tuple >= ENDPOINTS_DEPRECATED:
        primary, alternative = with_slice, with_endpoints
    else:
        primary, alternative = with_endpoints, with_slice
    alternative = ManifestFile(
        f"{ALTERNATIVES}/{alternative.name}",
        alternative.about,
        alternative.course,
        alternative.objects,
        (
            "use instead of ../03-external-mysql.yaml: kubectl apply -f this file "
            "after kubectl delete -f ../03-external-mysql.yaml",
            *alternative.notes,
        ),
    )
    return [primary, alternative]


def my_app(opts: Options) -> list[ManifestFile]:
    return [
        ManifestFile(
            "04-my-app-clusterip.yaml",
            "The backend the Ingress routes to: a Deployment and a ClusterIP Service (port 80).",
            "2018: kubectl run my-app ...; kubectl expose deployment my-app --port=80\n"
            "now:  kubectl create deployment my-app --image=nginx --port=80; "
            "kubectl expose deployment my-app --port=80",
            (deployment("my-app", NGINX_IMAGE, 80), service("my-app", "ClusterIP", 80, 80)),
            ("reachable only inside the cluster: kubectl get service my-app",),
        )
    ]


def ingress(opts: Options) -> list[ManifestFile]:
    obj: Obj = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            **_meta("my-ingress"),
            # nginx serves "/", not "/app": ingress-nginx rewrites the matched path.
            "annotations": {"nginx.ingress.kubernetes.io/rewrite-target": "/"},
        },
        "spec": {
            "ingressClassName": INGRESS_CLASS,
            "rules": [
                {
                    "host": "my.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/app",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "my-app", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ],
        },
    }
    return [
        ManifestFile(
            "05-my-ingress.yaml",
            "Route host my.example.com, path /app to service my-app:80.",
            "2018: apiVersion extensions/v1beta1, backend {serviceName: my-app, servicePort: 80}\n"
            "now:  networking.k8s.io/v1: backend.service {name, port.number}, a pathType, "
            "an ingressClassName",
            (obj,),
            (
                "needs an ingress controller: minikube addons enable ingress",
                "try it: curl --resolve my.example.com:80:$(minikube ip) http://my.example.com/app",
            ),
        )
    ]


def capsim_job(opts: Options) -> list[ManifestFile]:
    """The simulator itself, run once in the class cluster on the seed story."""
    scenario = opts.scenario or seed_scenario_text()
    config: Obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta("capsim-scenario", app="capsim"),
        "data": {"partition.yaml": scenario},
    }
    job: Obj = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta("capsim-partition", app="capsim"),
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": {"labels": {"app": "capsim"}},
                "spec": {
                    "restartPolicy": "Never",
                    "securityContext": {"runAsNonRoot": True},
                    "containers": [
                        {
                            "name": "capsim",
                            "image": opts.image,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["capsim", "run", f"{SCENARIO_MOUNT}/partition.yaml"],
                            "volumeMounts": [
                                {"name": "scenario", "mountPath": SCENARIO_MOUNT, "readOnly": True}
                            ],
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "256Mi"},
                                "limits": {"memory": "512Mi"},
                            },
                        }
                    ],
                    "volumes": [{"name": "scenario", "configMap": {"name": "capsim-scenario"}}],
                },
            },
        },
    }
    return [
        ManifestFile(
            "06-capsim-job.yaml",
            "capsim runs the CAP story (G1, G2, a broken link) inside the cluster, once.",
            "new in capsim: the simulator as a Kubernetes Job, its scenario in a ConfigMap",
            (config, job),
            (
                f"needs the image {opts.image} inside minikube: "
                f"minikube image build -t {opts.image} -f Containerfile .   "
                "(in the capsim source folder)",
                "watch it: kubectl wait --for=condition=complete job/capsim-partition; "
                "kubectl logs job/capsim-partition",
            ),
        )
    ]


Builder = Callable[[Options], list[ManifestFile]]

COURSE: tuple[Builder, ...] = (
    hello_minikube,
    my_nginx,
    external_mysql,
    my_app,
    ingress,
    capsim_job,
)


def live_experiment(opts: Options) -> list[ManifestFile]:
    """``--live``: capsim serve replicas, a NetworkPolicy pair, capsim live Jobs (lab/live.py)."""
    from capsim.lab.live import live_files

    return live_files(opts)


SETS: dict[str, tuple[Builder, ...]] = {"course": COURSE, "live": (live_experiment,)}
"""Named groups of builders; ``capsim lab manifests`` writes the sets it is asked for."""


def build(opts: Options, sets: Sequence[str] = ("course",)) -> list[ManifestFile]:
    out: list[ManifestFile] = []
    for name in sets:
        for builder in SETS[name]:
            out.extend(builder(opts))
    names = [f.name for f in out]
    if len(set(names)) != len(names):
        raise ManifestError(f"two manifest files share a name: {sorted(names)}")
    return out


# --- rendering and writing ---------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style everywhere; multi-line strings (the scenario) as readable ``|`` blocks."""


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def render(mf: ManifestFile, opts: Options) -> str:
    head = [
        f"# {mf.name}: written by `capsim lab manifests` (capsim {__version__}) "
        f"for Kubernetes {opts.k8s}",
        f"# {mf.about}",
    ]
    head += [f"# {line}" for line in mf.course.splitlines()]
    head += [f"# note: {n}" for n in mf.notes]
    docs = [
        yaml.dump(o, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)
        for o in mf.objects
    ]
    return "\n".join(head) + "\n---\n" + "---\n".join(docs)


def readme(files_: Sequence[ManifestFile], opts: Options) -> str:
    lines = [
        f"# The course's Kubernetes objects (Kubernetes {opts.k8s})",
        "",
        f"Written by `capsim lab manifests` (capsim {__version__}). Apply in this order:",
        "",
    ]
    for f in files_:
        if f.apply:
            lines.append(f"- `kubectl apply -f {f.name}`: {f.about}")
    alts = [f for f in files_ if not f.apply]
    if alts:
        lines += [
            "",
            f"`{ALTERNATIVES}/` holds replacements, not additions "
            "(`kubectl apply -f .` does not read it):",
            "",
        ]
        lines += [f"- `{f.name}`: {f.about}" for f in alts]
    lines += [
        "",
        "Everything at once: `kubectl apply -f .`; remove it all again:",
        "`kubectl delete all,ingress,configmap,endpoints,endpointslices "
        "-l app.kubernetes.io/part-of=capsim-lab`",
        "",
    ]
    return "\n".join(lines)


def write(
    out: str | Path, opts: Options, *, force: bool = False, sets: Sequence[str] = ("course",)
) -> list[Path]:
    """Write every file into ``out`` (all or nothing); refuse an existing ``out`` unless forced."""
    files_ = build(opts, sets)
    staged = atomic.staging_dir(out, force=force)
    try:
        for f in files_:
            atomic.write_text(staged / f.name, render(f, opts))
        atomic.write_text(staged / "README.md", readme(files_, opts))
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    atomic.commit_dir(staged, out, force=force)
    return [Path(out) / f.name for f in files_] + [Path(out) / "README.md"]


def schema_versions() -> list[str] | None:
    """The Kubernetes versions ``kubernetes-validate`` has schemas for; ``None``: not installed."""
    try:
        from kubernetes_validate.utils import all_versions
    except ImportError:
        return None
    return [k8s_minor(v) for v in all_versions()]


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def validate(files_: Sequence[ManifestFile], version: str) -> bool:
    """Check every object with ``kubernetes-validate`` (strict: unknown fields are errors).

    Returns ``False`` without checking when the package is not installed or
    bundles no schema for ``version``; raises :class:`ManifestError` on the
    first invalid object (that would be a bug in this module).
    """
    known = schema_versions()
    if not known or version not in known:
        return False
    import kubernetes_validate as kv

    for f in files_:
        for obj in f.objects:
            try:
                kv.validate(obj, version, strict=True)
            except kv.ValidationError as exc:
                where = ".".join(str(p) for p in exc.path) or "(top)"
                raise ManifestError(
                    f"{f.name}: {obj['kind']}/{obj['metadata']['name']} is not valid for "
                    f"Kubernetes {version}: {where}: {exc.message}"
                ) from None
            except kv.SchemaNotFoundError as exc:
                raise ManifestError(f"{f.name}: {exc.message}") from None
    return True
