"""The live CAP experiment in the class cluster: real replicas as pods.

``capsim lab manifests --live`` adds these objects to the course's:

- ``07-capsim-replicas.yaml``: the cluster's Secret (a fresh random key each time
  the manifests are written: replicas and driver sign their peer, control and
  client messages with it, so a pod that merely reaches a replica cannot
  forge, reset, partition or crash anything), a headless Service and a StatefulSet of two
  ``capsim serve`` replicas. The StatefulSet names its pods ``capsim-0`` and
  ``capsim-1``; the headless Service gives each a DNS name
  (``capsim-0.capsim-replicas``), which is how each replica finds its peer:
  the service-discovery chapter, made concrete. Pod ``capsim-N`` is the
  scenario's N-th node (G1, G2) thanks to ``--node auto``.
- ``08-capsim-partition.yaml``: a NetworkPolicy pair that cuts G1 from G2 (each
  replica accepts traffic only from the driver Jobs), applied and deleted with
  ``kubectl``: a partition made by the cluster's network, not by capsim.
- ``09-capsim-live-job.yaml``: a Job that drives the seed story against the
  pods with ``capsim live --attach`` under cp and ap, injecting the scenario's
  partition through the replicas' own control messages.
- ``10-capsim-live-netpol-job.yaml``: a Job for a story that happens entirely
  inside the partition (``--nemesis external``): run it while the
  NetworkPolicy pair is applied, and the verdicts come from a real cut.

``capsim lab steps cap`` lists the kubectl commands of the experiment
(:func:`live_steps`).
"""

from __future__ import annotations

from capsim.lab.commands import Command, Context
from capsim.lab.k8s import ManifestFile, Obj, Options, Settings, seed_scenario_text
from capsim.lab.k8s import meta as _meta

STATEFULSET = "capsim"
HEADLESS = "capsim-replicas"
PORT = 7000
NODES = ("G1", "G2")
REPLICA_APP = "capsim-replica"
DRIVER_APP = "capsim-driver"
LIVE_SCENARIO_MOUNT = "/scenario"
LIVE_JOB = "capsim-live"
NETPOL_JOB = "capsim-live-netpol"
REPLICAS_FILE = "07-capsim-replicas.yaml"
PARTITION_FILE = "08-capsim-partition.yaml"
LIVE_JOB_FILE = "09-capsim-live-job.yaml"
NETPOL_JOB_FILE = "10-capsim-live-netpol-job.yaml"
SECRET_NAME = "capsim-cluster-secret"
SECRET_KEY = "secret"

PARTITIONED_SCENARIO = """\
# The seed story inside a partition that the cluster makes: apply
# 08-capsim-partition.yaml first, so G1 and G2 cannot reach each other, then
# run this with `capsim live --nemesis external` (capsim injects nothing).
name: partitioned-cap-story
description: G1 and G2 hold v0 and cannot talk (a NetworkPolicy); alice writes v1, bob reads G2.
seed: 7
duration: 6.0
nodes: [G1, G2]
initial: {x: v0}
network:
  latency: {dist: constant, value: 0.05}
policy: [cp, ap]
timeout: 1.0
nemesis:
  - {at: 0.0, partition: [[G1], [G2]]}   # already in force: the NetworkPolicy pair
clients:
  - {name: alice, node: G1}
  - {name: bob,   node: G2}
operations:
  - {at: 1.0, client: alice, write: {x: v1}}
  - {at: 2.0, client: bob,   read: x}
  - {at: 4.0, client: alice, read: x}
"""


def member(i: int) -> str:
    """The DNS name of the i-th replica pod, as its peers and the driver use it."""
    return f"{STATEFULSET}-{i}.{HEADLESS}:{PORT}"


def cluster_arg() -> str:
    return ",".join(f"{n}={member(i)}" for i, n in enumerate(NODES))


def _container(name: str, image: str, command: list[str], mounts: list[Obj]) -> Obj:
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        # The cluster secret, as `capsim serve` and `capsim live` read it.
        "env": [{"name": "CAPSIM_SECRET",
                 "valueFrom": {"secretKeyRef": {"name": SECRET_NAME, "key": SECRET_KEY}}}],
        "volumeMounts": mounts,
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"},
                      "limits": {"memory": "256Mi"}},
    }


def replicas(opts: Options) -> list[ManifestFile]:
    import secrets

    secret: Obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(SECRET_NAME, app="capsim"),
        "type": "Opaque",
        "stringData": {SECRET_KEY: secrets.token_hex(32)},
    }
    scenario: Obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta("capsim-live-scenarios", app="capsim"),
        "data": {"partition.yaml": opts.scenario or seed_scenario_text(),
                 "partitioned.yaml": PARTITIONED_SCENARIO},
    }
    headless: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(HEADLESS, app=REPLICA_APP),
        "spec": {
            "clusterIP": "None",
            # Peers must find each other while starting, before they are ready.
            "publishNotReadyAddresses": True,
            "selector": {"app": REPLICA_APP},
            "ports": [{"name": "capsim", "protocol": "TCP", "port": PORT, "targetPort": PORT}],
        },
    }
    serve = _container(
        "replica", opts.image,
        ["capsim", "serve", "--node", "auto", "--cluster", cluster_arg(),
         "--listen", f"0.0.0.0:{PORT}", "--signed-clients", "--policy", "cp", "--data", "/data",
         "--scenario", f"{LIVE_SCENARIO_MOUNT}/partition.yaml"],
        [{"name": "data", "mountPath": "/data"},
         {"name": "scenarios", "mountPath": LIVE_SCENARIO_MOUNT, "readOnly": True}],
    )
    serve["ports"] = [{"name": "capsim", "containerPort": PORT}]
    serve["readinessProbe"] = {"httpGet": {"path": "/health", "port": "capsim"},
                               "periodSeconds": 2}
    statefulset: Obj = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(STATEFULSET, app=REPLICA_APP),
        "spec": {
            "serviceName": HEADLESS,
            "replicas": len(NODES),
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"app": REPLICA_APP}},
            "template": {
                "metadata": {"labels": {"app": REPLICA_APP}},
                "spec": {
                    "securityContext": {"runAsNonRoot": True},
                    "containers": [serve],
                    "volumes": [
                        # Survives a container restart (a crash), not a pod deletion.
                        {"name": "data", "emptyDir": {}},
                        {"name": "scenarios",
                         "configMap": {"name": "capsim-live-scenarios"}},
                    ],
                },
            },
        },
    }
    return [ManifestFile(
        REPLICAS_FILE,
        "Two capsim replicas (G1 = capsim-0, G2 = capsim-1) as a StatefulSet, found by DNS "
        "through a headless Service.",
        "new in capsim: `capsim serve` in pods; each finds its peer at "
        f"{member(0)} / {member(1)}",
        (secret, scenario, headless, statefulset),
        (f"check: kubectl rollout status statefulset/{STATEFULSET}",
         f"DNS: kubectl exec {STATEFULSET}-1 -- getent hosts {STATEFULSET}-0.{HEADLESS}"),
    )]


def _netpol(i: int) -> Obj:
    pod = f"{STATEFULSET}-{i}"
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(f"capsim-cut-{NODES[i].lower()}", app=REPLICA_APP),
        "spec": {
            "podSelector": {"matchLabels": {"statefulset.kubernetes.io/pod-name": pod}},
            "policyTypes": ["Ingress"],
            # Only the driver Jobs (the clients) may reach this replica: not its peer.
            "ingress": [{
                "from": [{"podSelector": {"matchLabels": {"app": DRIVER_APP}}}],
                "ports": [{"protocol": "TCP", "port": PORT}],
            }],
        },
    }


def partition(opts: Options) -> list[ManifestFile]:
    return [ManifestFile(
        PARTITION_FILE,
        "The partition: G1 and G2 stop accepting each other's traffic (clients still get in).",
        "new in capsim: apply it to break the link, delete it to heal",
        tuple(_netpol(i) for i in range(len(NODES))),
        ("needs a network plugin that enforces NetworkPolicy: minikube start --cni=calico "
         "(the default kindnet ignores NetworkPolicy)",
         f"heal: kubectl delete -f {PARTITION_FILE}"),
    )]


def _driver_job(name: str, opts: Options, scenario: str, extra: list[str]) -> Obj:
    attach = ",".join(f"{n}={member(i)}" for i, n in enumerate(NODES))
    command = ["capsim", "live", f"{LIVE_SCENARIO_MOUNT}/{scenario}", "--attach", attach,
               "--policy", ",".join(opts.policies), "--no-write", *extra]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(name, app=DRIVER_APP),
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": {"labels": {"app": DRIVER_APP}},
                "spec": {
                    "restartPolicy": "Never",
                    "securityContext": {"runAsNonRoot": True},
                    "containers": [_container(
                        "driver", opts.image, command,
                        [{"name": "scenarios", "mountPath": LIVE_SCENARIO_MOUNT,
                          "readOnly": True}])],
                    "volumes": [{"name": "scenarios",
                                 "configMap": {"name": "capsim-live-scenarios"}}],
                },
            },
        },
    }


def driver_jobs(opts: Options) -> list[ManifestFile]:
    return [
        ManifestFile(
            LIVE_JOB_FILE,
            f"Drive the seed story against the replica pods under "
            f"{' and '.join(opts.policies)}; the replicas cut and heal their own link on "
            "capsim's cue.",
            "new in capsim: `capsim live --attach`: the simulator's scenario, real pods",
            (_driver_job(LIVE_JOB, opts, "partition.yaml", []),),
            (f"read it: kubectl logs job/{LIVE_JOB}",
             f"again: kubectl delete job {LIVE_JOB}; kubectl apply -f {LIVE_JOB_FILE}"),
        ),
        ManifestFile(
            NETPOL_JOB_FILE,
            "A story inside a partition the cluster makes: apply 08-capsim-partition.yaml "
            "first; capsim injects nothing.",
            "new in capsim: `capsim live --attach --nemesis external`",
            (_driver_job(NETPOL_JOB, opts, "partitioned.yaml", ["--nemesis", "external"]),),
            (f"read it: kubectl logs job/{NETPOL_JOB}",),
        ),
    ]


def live_files(opts: Options) -> list[ManifestFile]:
    """Every file of the ``live`` set of :data:`capsim.lab.manifests.SETS`, in order."""
    return [*replicas(opts), *partition(opts), *driver_jobs(opts)]


def live_dir(settings: Settings) -> str:
    """Where the cap chapter writes the live manifests (beside the course's folder)."""
    return f"{settings.manifests_dir.rstrip('/')}-live"


def live_steps(ctx: Context, settings: Settings) -> list[Command]:
    """The live experiment's commands, after the cap chapter's simulator Job."""
    d = live_dir(settings)

    def f(name: str) -> str:
        return f"{d}/{name}"

    def wait_and_log(job: str, expect: str) -> list[Command]:
        return [
            Command(("kubectl", "wait", "--for=condition=complete", f"job/{job}",
                     "--timeout=300s"),
                    "wait until the driver has played the scenario",
                    f"'job.batch/{job} condition met'", timeout=330.0),
            Command(("kubectl", "logs", f"job/{job}"), "the live run's report", expect),
        ]

    return [
        Command(ctx.capsim("lab", "manifests", "--live", "--out", d, "--k8s-version",
                           settings.k8s, "--image", settings.image),
                f"write the live experiment's objects into {d}/ (07 to 10; read them!)",
                f"'wrote … files into {d}'; if {d} exists already, delete it first"),
        Command(("kubectl", "apply", "-f", f(REPLICAS_FILE)),
                "two real replicas of the CAP story's record: G1 = pod capsim-0, G2 = capsim-1",
                "'secret/capsim-cluster-secret created', 'service/capsim-replicas created', "
                "'statefulset.apps/capsim created'"),
        Command(("kubectl", "rollout", "status", f"statefulset/{STATEFULSET}",
                 "--timeout=300s"),
                "wait until both replicas answer their /health probe",
                "'statefulset rolling update complete 2 pods at revision …'", timeout=330.0),
        Command(("kubectl", "exec", f"{STATEFULSET}-1", "--", "getent", "hosts",
                 f"{STATEFULSET}-0.{HEADLESS}"),
                "service discovery: G2 finds G1 by the DNS name the headless Service gives it",
                "one line: the pod IP of capsim-0 and its name"),
        Command(("kubectl", "apply", "-f", f(LIVE_JOB_FILE)),
                "drive the seed story against the pods (cp, then ap); the replicas cut and "
                "heal their link when the scenario says",
                f"'job.batch/{LIVE_JOB} created'"),
        *wait_and_log(LIVE_JOB, "the same table as `capsim run`: cp refuses bob's read "
                      "during the partition, ap answers the stale v0 and converges"),
        Command(("kubectl", "apply", "-f", f(PARTITION_FILE)),
                "now the cluster cuts the link: G1 and G2 accept only the driver's traffic",
                "'networkpolicy.networking.k8s.io/capsim-cut-g1 created' (and -g2)"),
        Command(("kubectl", "apply", "-f", f(NETPOL_JOB_FILE)),
                "a story played entirely inside that real partition",
                f"'job.batch/{NETPOL_JOB} created'"),
        *wait_and_log(NETPOL_JOB, "cp: alice's write and bob's read fail (no majority); "
                      "ap: both ok, bob reads the stale v0. Same verdicts, real network"),
        Command(("kubectl", "delete", "-f", f(PARTITION_FILE)),
                "heal: remove the NetworkPolicy pair",
                "'networkpolicy.networking.k8s.io \"capsim-cut-g1\" deleted' (and -g2)"),
    ]


__all__ = ["PARTITIONED_SCENARIO", "live_dir", "live_files", "live_steps", "member"]
