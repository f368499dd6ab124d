"""``capsim lab manifests``: schema-valid for two Kubernetes versions, and the course's intent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from capsim.cli import app
from capsim.lab import manifests as m
from capsim.lab.k8s import _SEED_FALLBACK
from capsim.scenario import parse_scenario_text, seed_scenario

runner = CliRunner()
VERSIONS = ("1.28", "1.33")  # either side of the Endpoints -> EndpointSlice switch


def write(out: Path, *args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["lab", "manifests", "--out", str(out), *args])
    return res.exit_code, res.output


def load_dir(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Every YAML file (alternatives too) -> its objects, as kubectl would read them."""
    return {
        str(p.relative_to(folder)): [d for d in yaml.safe_load_all(p.read_text()) if d]
        for p in sorted(folder.rglob("*.yaml"))
    }


def find(objs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    hits = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(hits) == 1, (kind, name, [(o["kind"], o["metadata"]["name"]) for o in objs])
    return hits[0]


@pytest.fixture(scope="module", params=VERSIONS)
def written(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    version = request.param
    out = tmp_path_factory.mktemp("k8s") / "capsim-k8s"
    code, output = write(out, "--k8s-version", version)
    assert code == 0, output
    assert f"every object passed the Kubernetes {version} schema" in output
    return version, out


def test_every_object_is_valid_for_the_version(written: tuple[str, Path]) -> None:
    version, out = written
    files = load_dir(out)
    assert len(files) == 7
    count = 0
    for objs in files.values():
        for obj in objs:
            assert kubernetes_validate.validate(obj, version, strict=True) == version
            count += 1
    assert count == 13


def test_the_validator_can_say_no() -> None:
    """The 2018 Ingress no longer exists, and a typo'd field is rejected (strict)."""
    old_ingress = {
        "apiVersion": "extensions/v1beta1",
        "kind": "Ingress",
        "metadata": {"name": "my-ingress"},
        "spec": {"backend": {"serviceName": "my-app", "servicePort": 80}},
    }
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(old_ingress, "1.28", strict=True)
    broken = m.build(m.options("1.28"))[0]
    bad = dict(broken.objects[1])
    bad["spec"] = {**bad["spec"], "nodeport": 30080}
    with pytest.raises(m.ManifestError, match=r"01-hello-minikube\.yaml: Service/hello-minikube"):
        m.validate([m.ManifestFile(broken.name, "", "", (bad,))], "1.28")


def test_the_course_objects(written: tuple[str, Path]) -> None:
    _, out = written
    files = load_dir(out)
    objs = [o for name, os_ in files.items() if not name.startswith("alternatives/") for o in os_]

    hello = find(objs, "Deployment", "hello-minikube")
    pod = hello["spec"]["template"]
    assert hello["spec"]["selector"]["matchLabels"] == {"app": "hello-minikube"}
    assert pod["metadata"]["labels"] == {"app": "hello-minikube"}
    assert pod["spec"]["containers"][0]["image"].startswith("nginx")
    assert pod["spec"]["containers"][0]["ports"][0]["containerPort"] == 80
    svc = find(objs, "Service", "hello-minikube")["spec"]
    assert svc["type"] == "NodePort" and svc["selector"] == {"app": "hello-minikube"}
    assert (svc["ports"][0]["port"], svc["ports"][0]["targetPort"]) == (80, 80)

    nginx = find(objs, "Service", "my-nginx")["spec"]
    assert nginx["type"] == "LoadBalancer" and nginx["ports"][0]["port"] == 80
    dep = find(objs, "Deployment", "my-nginx")
    assert dep["spec"]["template"]["metadata"]["labels"] == nginx["selector"]

    mysql = find(objs, "Service", "external-mysql")["spec"]
    assert "selector" not in mysql
    assert mysql["ports"] == [
        {"name": "mysql", "protocol": "TCP", "port": 3306, "targetPort": 3306}
    ]

    app_svc = find(objs, "Service", "my-app")["spec"]
    assert app_svc["type"] == "ClusterIP" and app_svc["ports"][0]["port"] == 80
    assert (
        find(objs, "Deployment", "my-app")["spec"]["template"]["metadata"]["labels"]
        == app_svc["selector"]
    )

    ing = find(objs, "Ingress", "my-ingress")
    assert ing["apiVersion"] == "networking.k8s.io/v1"
    assert ing["spec"]["ingressClassName"] == "nginx"
    (rule,) = ing["spec"]["rules"]
    assert rule["host"] == "my.example.com"
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/app" and path["pathType"] == "Prefix"
    assert path["backend"] == {"service": {"name": "my-app", "port": {"number": 80}}}

    config = find(objs, "ConfigMap", "capsim-scenario")
    job = find(objs, "Job", "capsim-partition")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["capsim", "run", "/scenario/partition.yaml"]
    assert container["image"] == m.DEFAULT_IMAGE == "capsim:0.1.0"
    assert container["volumeMounts"] == [
        {"name": "scenario", "mountPath": "/scenario", "readOnly": True}
    ]
    assert job["spec"]["template"]["spec"]["volumes"] == [
        {"name": "scenario", "configMap": {"name": "capsim-scenario"}}
    ]
    scenario = parse_scenario_text(config["data"]["partition.yaml"], source="ConfigMap")
    assert scenario == seed_scenario()


def test_endpoints_or_endpointslice_by_version(written: tuple[str, Path]) -> None:
    version, out = written
    files = load_dir(out)
    top = {o["kind"] for o in files["03-external-mysql.yaml"]}
    alt = {o["kind"] for o in files["alternatives/03-external-mysql.yaml"]}
    if version == "1.28":
        assert top == {"Service", "Endpoints"} and alt == {"Service", "EndpointSlice"}
    else:
        assert top == {"Service", "EndpointSlice"} and alt == {"Service", "Endpoints"}
    every = [o for objs in files.values() for o in objs]
    endpoints = find(every, "Endpoints", "external-mysql")
    assert endpoints["subsets"] == [
        {
            "addresses": [{"ip": m.DEFAULT_MYSQL_IP}],
            "ports": [{"name": "mysql", "port": 3306, "protocol": "TCP"}],
        }
    ]
    es = find(every, "EndpointSlice", "external-mysql-1")
    assert es["metadata"]["labels"]["kubernetes.io/service-name"] == "external-mysql"
    assert es["ports"] == [{"name": "mysql", "port": 3306, "protocol": "TCP"}]
    assert es["endpoints"][0]["addresses"] == [m.DEFAULT_MYSQL_IP]
    readme = (out / "README.md").read_text()
    assert "kubectl apply -f 03-external-mysql.yaml" in readme
    assert (
        "alternatives/" in readme
        and "EndpointSlice" in (out / "03-external-mysql.yaml").read_text()
    )


def test_existing_folder_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    m.write(out, m.options())
    (out / "01-hello-minikube.yaml").write_text("# edited by hand\n")
    code, output = write(out, "--mysql-ip", "10.1.2.3")
    assert code == 2 and "--force" in output
    assert (out / "01-hello-minikube.yaml").read_text() == "# edited by hand\n"
    code, output = write(out, "--mysql-ip", "10.1.2.3", "--force")
    assert code == 0, output
    assert "10.1.2.3" in (out / "03-external-mysql.yaml").read_text()
    assert "edited" not in (out / "01-hello-minikube.yaml").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--k8s-version", "1.20"], "need Kubernetes >= 1.23"),
        (["--k8s-version", "latest"], "is not a Kubernetes version"),
        (["--mysql-ip", "127.0.0.1"], "rejects loopback"),
        (["--mysql-ip", "db.example.com"], "is not an IP address"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    code, output = write(tmp_path / "k8s", *args)
    assert code == 2 and message in output
    assert not (tmp_path / "k8s").exists()


def test_versions_beyond_the_bundled_schemas_are_written_unchecked(tmp_path: Path) -> None:
    code, output = write(tmp_path / "k8s", "--k8s-version", "1.99")
    assert code == 0 and "not schema-checked" in output


def test_embedded_copy_of_the_seed_story_still_parses() -> None:
    """Used only when the packaged file is missing; it must stay a valid, identical story."""
    fallback = parse_scenario_text(_SEED_FALLBACK, source="fallback")
    assert fallback == seed_scenario()


def test_sets_are_extensible() -> None:
    """A later set (issue 10's --live) is one more entry in SETS; build() takes any of them."""
    opts = m.options()
    extra = lambda o: [m.ManifestFile("07-extra.yaml", "x", "y", ({"kind": "ConfigMap"},))]  # noqa: E731
    m.SETS["test-extra"] = (extra,)
    try:
        names = [f.name for f in m.build(opts, ("course", "test-extra"))]
    finally:
        del m.SETS["test-extra"]
    assert names[-1] == "07-extra.yaml" and names[0] == "01-hello-minikube.yaml"
