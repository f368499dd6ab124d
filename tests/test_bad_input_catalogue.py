"""A catalogue of bad inputs across every command (issue 19 §2, §4).

Each case: the command line and the files it is given. Each must end with
exit code 2, one line ``error: …`` naming what is wrong (the file, line and
field where there is one), no traceback, and the folder exactly as it was:
nothing left behind (no ``.tmp`` folders), nothing replaced.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capsim.cli import app

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "scenarios" / "partition.yaml").read_text(encoding="utf-8")
MINI = "name: mini\nduration: 5\nnodes: [A, B]\n"
runner = CliRunner()


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest()
                                                if p.is_file() else "dir")
            for p in sorted(folder.rglob("*"))}


Files = dict[str, str | bytes | None]  # None: a folder

CASES: list[tuple[str, Files, list[str], list[str]]] = [
    # (id, files, argv, words the one line must hold)
    ("run-missing-file", {}, ["run", "nope.yaml"], ["nope.yaml: no such file"]),
    ("run-folder", {"d": None}, ["run", "d"], ["d: is a folder, not a scenario file"]),
    ("run-binary", {"b.yaml": b"\xff\xfe\x00"}, ["run", "b.yaml"], ["b.yaml: is not a text file"]),
    ("run-empty", {"e.yaml": ""}, ["run", "e.yaml"], ["e.yaml: the file is empty"]),
    ("run-list", {"l.yaml": "- a\n- b\n"}, ["run", "l.yaml"], ["l.yaml:1:", "not list"]),
    ("run-duplicate-key", {"s.yaml": MINI + "name: other\n"}, ["run", "s.yaml"],
     ["s.yaml:4:", "the key 'name' appears twice in the same mapping"]),
    ("run-python-tag", {"s.yaml": MINI + "description: !!python/name:os.system ''\n"},
     ["run", "s.yaml"], ["s.yaml:4:", "the tag !!python/name:os.system is not allowed"]),
    ("run-deep", {"s.yaml": "name: " + "[" * 300 + "]" * 300 + "\n"}, ["run", "s.yaml"],
     ["s.yaml:1:", "nested more than 64 deep"]),
    ("run-alias-bomb", {"s.yaml": "".join(
        f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9 if i else ["x"] * 9) + "]\n"
        for i in range(9))}, ["run", "s.yaml"], ["s.yaml:", "expands to more than 200,000"]),
    ("run-recursive-alias", {"s.yaml": "a: &a [*a]\n"}, ["run", "s.yaml"],
     ["s.yaml:1:", "refers to the value that contains it"]),
    ("run-not-yaml", {"s.yaml": "name: [unclosed\n"}, ["run", "s.yaml"],
     ["s.yaml:", "not valid YAML"]),
    ("run-sweep-file", {"s.yaml": "base: x.yaml\ngrid: {seed: [1, 2]}\n"}, ["run", "s.yaml"],
     ["this is a sweep file", "capsim sweep FILE"]),
    ("run-misspelt-tunable", {"s.yaml": MINI + "params: {cp: {give_upp: 0.8}}\n"},
     ["run", "s.yaml"], ["s.yaml:4: params.cp.give_upp: unknown field 'give_upp'"]),
    ("run-policy-twice-yaml", {"s.yaml": MINI + "policy: [cp, cp]\n"}, ["run", "s.yaml"],
     ["s.yaml:4: policy[1]: policy 'cp' is named twice"]),
    ("run-policy-unknown", {}, ["run", "--policy", "cq"], ["--policy: unknown policy 'cq'"]),
    ("run-policy-twice", {}, ["run", "--policy", "cp,cp"], ["policy 'cp' is named twice"]),
    ("run-self-link", {"s.yaml": MINI + "network: {links: [{between: [B, B]}]}\n"},
     ["run", "s.yaml"], ["s.yaml:4: network.links[0].between: a link joins two different"]),
    ("run-op-at-end", {"s.yaml": MINI + "clients: [{name: c, node: A}]\n"
                       "operations: [{at: 5, client: c, read: x}]\n"}, ["run", "s.yaml"],
     ["s.yaml:5: operations[0].at:", "would never run"]),
    ("run-endless-sync", {"s.yaml": MINI + "policy: ap\nparams: {ap: {sync_interval: 1.0e-7}}\n"},
     ["run", "s.yaml"], ["s.yaml:2: duration:", "more than limits.events (5,000,000)",
                         "limits: {events: N}"]),
    ("run-too-many-nodes", {"s.yaml": "name: big\nduration: 5\nnodes: ["
                            + ", ".join(f"N{i}" for i in range(150)) + "]\n"},
     ["run", "s.yaml"], ["s.yaml:3: nodes:", "more than limits.nodes (100)"]),
    ("run-bool-value", {"s.yaml": MINI + "initial: {x: true}\n"}, ["run", "s.yaml"],
     ["s.yaml:4: initial.x: true is a yes/no value in YAML"]),
    ("run-long-name", {"s.yaml": MINI.replace("name: mini", "name: " + "n" * 300)},
     ["run", "s.yaml"], ["s.yaml:1: name:", "at most 100 characters"]),
    ("run-nan", {"s.yaml": MINI.replace("duration: 5", "duration: .nan")}, ["run", "s.yaml"],
     ["s.yaml:2: duration: Input should be a finite number"]),
    ("run-long-value", {"s.yaml": MINI + "timeout: " + "9" * 5000 + "x\n"}, ["run", "s.yaml"],
     ["s.yaml:4: timeout:", "…"]),
    ("run-out-is-a-file", {"keep.txt": "mine"}, ["run", "--out", "keep.txt", "--force"],
     ["keep.txt is a file, not a folder"]),
    ("run-out-below-a-file", {"keep.txt": "mine"}, ["run", "--out", "keep.txt/r"],
     ["keep.txt is a file, so keep.txt/r cannot be made inside it"]),
    ("run-out-name-too-long", {}, ["run", "--out", "o" * 300],
     ["cannot use " + "o" * 100 + "… as the output folder: File name too long"]),
    ("run-out-users-folder", {"mine/notes.txt": "mine"}, ["run", "--out", "mine"],
     ["mine already exists; pass --force to replace it"]),
    ("run-nrw-bad", {}, ["run", "-p", "quorum", "--nrw", "3,x,1"], ["--nrw takes three"]),
    ("run-plot-and-no-plot", {}, ["run", "--plot", "png", "--no-plot"], ["contradict"]),
    ("validate-duplicate-key", {"s.yaml": MINI + "nodes: [C]\n"}, ["validate", "s.yaml"],
     ["s.yaml:4:", "the key 'nodes' appears twice"]),
    ("check-missing", {}, ["check", "h.jsonl"], ["h.jsonl"]),
    ("check-nan-time", {"h.jsonl": '{"index":0,"time":NaN,"process":"a","type":"invoke",'
                        '"f":"read","key":"x"}\n'}, ["check", "h.jsonl"],
     ["h.jsonl:1: time must be a finite number of seconds, got nan"]),
    ("check-huge-index", {"h.jsonl": '{"index":1e999,"time":1,"process":"a","type":"invoke",'
                          '"f":"read","key":"x"}\n'}, ["check", "h.jsonl"],
     ["h.jsonl:1: index must be a whole number >= 0, got inf"]),
    ("check-edn-nan-time", {"h.edn": "{:type :invoke, :f :read, :value nil, :process 0, "
                            ":time ##NaN, :index 0}\n"}, ["check", "h.edn"],
     ["h.edn:1: time must be a finite number, got nan"]),
    ("check-orphan", {"h.jsonl": '{"index":0,"time":1,"process":"a","type":"ok",'
                      '"f":"read","key":"x","value":1}\n'}, ["check", "h.jsonl"],
     ["h.jsonl:1:", "no open invoke"]),
    ("check-initial-bad", {"h.jsonl": ""}, ["check", "h.jsonl", "--initial", "x"],
     ["--initial 'x': expected KEY=VALUE"]),
    ("plot-a-file", {"h.jsonl": "{}\n"}, ["plot", "h.jsonl"],
     ["h.jsonl is a file; capsim plot takes the run folder"]),
    ("plot-missing", {}, ["plot", "nowhere"], ["nowhere: no such folder"]),
    ("plot-not-a-run", {"d/x.txt": "x"}, ["plot", "d"], ["d: no result.json here"]),
    ("pbs-huge-trials", {}, ["pbs", "--trials", "10000000000"],
     ["--trials 10,000,000,000: at most 20,000,000", "223.5 GiB"]),
    ("pbs-huge-paper-trials", {}, ["pbs", "--method", "paper", "--paper-trials", "10000000000"],
     ["--paper-trials 10,000,000,000: at most 20,000,000"]),
    ("pbs-plot-below-a-file", {"keep.txt": "mine"}, ["pbs", "--plot", "keep.txt/p.png"],
     ["--plot keep.txt/p.png: keep.txt is a file, not a folder", "choose another --plot"]),
    ("sweep-out-below-a-file", {"keep.txt": "mine"},
     ["sweep", str(ROOT / "scenarios" / "sweeps" / "quorum-nrw.yaml"), "--out", "keep.txt/s"],
     ["keep.txt is a file, so keep.txt/s cannot be made inside it"]),
    ("pbs-nrw-bad", {}, ["pbs", "--nrw", "1,2"], ["--nrw"]),
    ("sweep-a-scenario", {"s.yaml": MINI}, ["sweep", "s.yaml", "--dry-run"],
     ["s.yaml: this is a scenario file", "capsim run FILE"]),
    ("sweep-huge-grid", {"g.yaml": "name: g\nbase: {duration: 5, nodes: [A]}\ngrid:\n" + "".join(
        f"  label.a{i}: [0,1,2,3,4,5,6,7,8,9]\n" for i in range(10))},
     ["sweep", "g.yaml", "--dry-run"], ["10,000,000,000 runs per policy", "max_runs"]),
]


@pytest.mark.parametrize(("files", "argv", "words"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line_and_leaves_everything_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: Files, argv: list[str],
    words: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, content in files.items():
        p = tmp_path / name
        if content is None:
            p.mkdir(parents=True)
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    before = _snapshot(tmp_path)
    res = runner.invoke(app, argv)
    out = res.output.strip()
    assert res.exit_code == 2, out
    assert "Traceback" not in out
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert out.startswith("error: ") and "\n" not in out, out
    assert len(out) <= 1000, len(out)
    for w in words:
        assert w in out, (w, out)
    assert _snapshot(tmp_path) == before


def test_the_catalogue_covers_every_command_that_reads_input() -> None:
    used = {c[2][0] for c in CASES}
    assert {"run", "validate", "check", "plot", "pbs", "sweep"} <= used

