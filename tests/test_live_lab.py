"""``capsim lab manifests --live`` and ``capsim lab steps cap``: the live experiment in a cluster.

The manifests are checked with kubernetes-validate (strict), for their wiring
(DNS names, labels the NetworkPolicies select), and for real: the pods' own
commands are run on 127.0.0.1, replicas and driver, and must reach the
simulator's verdicts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from capsim import RunResult, simulate
from capsim.cli import app
from capsim.lab import live
from capsim.scenario import parse_scenario_text

pytestmark = pytest.mark.timeout(120)
VERSIONS = ("1.28", "1.33")


def objects(folder: Path, name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((folder / name).read_text()) if d]


def one(objs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    hits = [o for o in objs if o["kind"] == kind]
    assert len(hits) == 1, [o["kind"] for o in objs]
    return hits[0]


def _write(version: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("k8s") / "capsim-k8s-live"
    r = CliRunner().invoke(app, ["lab", "manifests", "--live", "--out", str(out),
                                 "--k8s-version", version])
    assert r.exit_code == 0, r.output
    assert f"every object passed the Kubernetes {version} schema" in r.output
    return version, out


@pytest.fixture(scope="module", params=VERSIONS)
def written(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    return _write(request.param, tmp_path_factory)


def test_the_live_objects_are_valid_kubernetes(written: tuple[str, Path]) -> None:
    version, out = written
    names = [live.REPLICAS_FILE, live.PARTITION_FILE, live.LIVE_JOB_FILE, live.NETPOL_JOB_FILE]
    kinds = []
    for name in names:
        for obj in objects(out, name):
            assert kubernetes_validate.validate(obj, version, strict=True) == version
            kinds.append(obj["kind"])
    assert sorted(kinds) == ["ConfigMap", "Job", "Job", "NetworkPolicy", "NetworkPolicy", "Secret",
                             "Service", "StatefulSet"]
    assert (out / "06-capsim-job.yaml").is_file()  # --live adds to the course's objects


def test_replicas_find_each_other_by_the_headless_services_dns_names(
        written: tuple[str, Path]) -> None:
    _, out = written
    objs = objects(out, live.REPLICAS_FILE)
    svc, sts = one(objs, "Service"), one(objs, "StatefulSet")
    assert svc["spec"]["clusterIP"] == "None"
    assert sts["spec"]["serviceName"] == svc["metadata"]["name"]
    assert svc["spec"]["selector"] == sts["spec"]["template"]["metadata"]["labels"]
    cmd = sts["spec"]["template"]["spec"]["containers"][0]["command"]
    assert cmd[:2] == ["capsim", "serve"]
    cluster = dict(m.split("=") for m in cmd[cmd.index("--cluster") + 1].split(","))
    sts_name, svc_name = sts["metadata"]["name"], svc["metadata"]["name"]
    assert cluster == {"G1": f"{sts_name}-0.{svc_name}:7000", "G2": f"{sts_name}-1.{svc_name}:7000"}
    assert cmd[cmd.index("--node") + 1] == "auto"  # pod NAME-N is the N-th member
    scenarios = one(objs, "ConfigMap")["data"]
    for text in scenarios.values():
        assert parse_scenario_text(text).nodes == ["G1", "G2"]


def test_the_network_policies_cut_g1_from_g2_but_let_the_driver_in(
        written: tuple[str, Path]) -> None:
    _, out = written
    pols = objects(out, live.PARTITION_FILE)
    pods = [p["spec"]["podSelector"]["matchLabels"]["statefulset.kubernetes.io/pod-name"]
            for p in pols]
    assert pods == ["capsim-0", "capsim-1"]
    jobs = [one(objects(out, f), "Job") for f in (live.LIVE_JOB_FILE, live.NETPOL_JOB_FILE)]
    replica_labels = one(objects(out, live.REPLICAS_FILE), "StatefulSet")["spec"]["template"][
        "metadata"]["labels"]
    for p in pols:
        (rule,) = p["spec"]["ingress"]
        allowed = rule["from"][0]["podSelector"]["matchLabels"]
        for job in jobs:  # the driver's pods are let in ...
            assert allowed.items() <= job["spec"]["template"]["metadata"]["labels"].items()
        assert not allowed.items() <= replica_labels.items()  # ... the other replica is not


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_pods_commands_play_the_seed_story_on_loopback(
        tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    _, out = _write(VERSIONS[-1], tmp_path_factory)
    objs = objects(out, live.REPLICAS_FILE)
    scen = tmp_path / "scenario"
    scen.mkdir()
    for name, text in one(objs, "ConfigMap")["data"].items():
        (scen / name).write_text(text)
    ports = [_free_port(), _free_port()]

    def local(args: list[str]) -> list[str]:
        """The pod's argv with cluster names and paths mapped onto this machine."""
        out_args = []
        for a in args:
            for i in range(2):
                a = a.replace(live.member(i), f"127.0.0.1:{ports[i]}")
            a = a.replace(live.LIVE_SCENARIO_MOUNT + "/", f"{scen}/")
            out_args.append(a)
        return out_args

    serve = one(objs, "StatefulSet")["spec"]["template"]["spec"]["containers"][0]["command"]
    # The pods read the cluster secret from the Secret object; so do we.
    key = one(objs, "Secret")["stringData"][live.SECRET_KEY]
    assert len(key) == 64
    env = {**os.environ, "CAPSIM_SECRET": key}
    procs = []
    try:
        for i in range(2):
            argv = local(serve)
            argv[argv.index("--listen") + 1] = f"127.0.0.1:{ports[i]}"  # not 0.0.0.0 here
            argv[argv.index("--data") + 1] = str(tmp_path / f"data{i}")
            procs.append(subprocess.Popen(
                [sys.executable, "-m", *argv], env={**env, "HOSTNAME": f"capsim-{i}"},
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                start_new_session=True))
        for i, p in enumerate(procs):
            assert p.stdout is not None
            ready = json.loads(p.stdout.readline())
            assert ready["node"] == ["G1", "G2"][i]  # from the host name's ordinal

        job = one(objects(out, live.LIVE_JOB_FILE), "Job")
        argv = local(job["spec"]["template"]["spec"]["containers"][0]["command"])
        assert argv[:2] == ["capsim", "live"] and "--attach" in argv
        result_dir = tmp_path / "run"
        argv = [a for a in argv[1:] if a != "--no-write"]
        r = CliRunner().invoke(app, [*argv, "--speed", "2.5", "--out", str(result_dir),
                                     "--no-plot"], env={"CAPSIM_SECRET": key})
        assert r.exit_code == 0, r.output
        sc = parse_scenario_text((scen / "partition.yaml").read_text())
        for policy in ("cp", "ap"):
            got = RunResult.load(result_dir / policy)
            want = simulate(sc, policy=policy)
            assert [(o.process, o.type, o.value) for o in got.history.operations()] == \
                   [(o.process, o.type, o.value) for o in want.history.operations()], policy
            assert got.checks["stale_reads"]["count"] == want.checks["stale_reads"]["count"]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
            p.wait(10)
            if p.stdout is not None:
                p.stdout.close()


def test_steps_cap_lists_the_kubectl_commands_of_the_experiment() -> None:
    r = CliRunner().invoke(app, ["lab", "steps", "cap"])
    assert r.exit_code == 0, r.output
    text = r.output
    order = [
        "capsim lab manifests --live --out capsim-k8s-live",
        f"kubectl apply -f capsim-k8s-live/{live.REPLICAS_FILE}",
        "kubectl rollout status statefulset/capsim",
        "getent hosts capsim-0.capsim-replicas",
        f"kubectl apply -f capsim-k8s-live/{live.LIVE_JOB_FILE}",
        "kubectl logs job/capsim-live",
        f"kubectl apply -f capsim-k8s-live/{live.PARTITION_FILE}",
        f"kubectl apply -f capsim-k8s-live/{live.NETPOL_JOB_FILE}",
        "kubectl logs job/capsim-live-netpol",
        f"kubectl delete -f capsim-k8s-live/{live.PARTITION_FILE}",
    ]
    at = [text.find(s) for s in order]
    assert all(i >= 0 for i in at), [s for s, i in zip(order, at, strict=True) if i < 0]
    assert at == sorted(at)


def test_the_partitioned_story_gives_the_cap_verdicts_in_the_simulator() -> None:
    sc = parse_scenario_text(live.PARTITIONED_SCENARIO)
    cp, ap = simulate(sc, policy="cp"), simulate(sc, policy="ap")
    bob = {r.policy: next(o for o in r.history.operations() if o.process == "bob")
           for r in (cp, ap)}
    assert bob["cp"].type == "fail"
    assert (bob["ap"].type, bob["ap"].value) == ("ok", "v0")
