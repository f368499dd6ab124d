"""``capsim serve`` (one real replica) and ``capsim live`` (a scenario on real replicas)."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from capsim.cli.common import die, split_csv, user_errors
from capsim.cli.plotopts import parse_formats
from capsim.cli.root import app
from capsim.cli.runopts import (
    ExportEdnOpt,
    ForceOpt,
    JsonOpt,
    LangOpt,
    MessagesOpt,
    NoHtmlOpt,
    NoPlotOpt,
    NoWriteOpt,
    NrwOpt,
    OutOpt,
    PlotOpt,
    PolicyOpt,
    ScenarioArg,
    SeedOpt,
)


def _members(items: list[str], what: str) -> dict[str, tuple[str, int]]:
    from capsim.live.protocol import parse_member

    out: dict[str, tuple[str, int]] = {}
    for item in items:
        for part in split_csv(item):
            try:
                name, addr = parse_member(part)
            except ValueError as exc:
                raise die(f"{what}: {exc}") from None
            if name in out:
                raise die(f"{what}: {name} is given twice")
            out[name] = addr
    return out


def _initial(items: list[str], as_json: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if as_json:
        try:
            data = json.loads(as_json)
        except json.JSONDecodeError as exc:
            raise die(f"--initial-json: not JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise die('--initial-json must be a JSON object, e.g. {"x": "v0"}')
        out.update(data)
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise die(f"--initial {item!r} must look like KEY=VALUE, e.g. x=v0")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        out[key] = value if isinstance(value, (str, int)) else text
    return out


def _ordinal_node(cluster: list[str]) -> str:
    """``--node auto``: a StatefulSet names its pods NAME-0, NAME-1, …; pick that member."""
    host = os.environ.get("HOSTNAME") or socket.gethostname()
    _, _, tail = host.rpartition("-")
    if not tail.isdigit():
        raise die(f"--node auto needs a host name ending in -N (a StatefulSet pod); got {host!r}")
    i = int(tail)
    if not cluster:
        raise die("--node auto needs --cluster NAME=HOST:PORT,… to pick a member from")
    if i >= len(cluster):
        raise die(f"host {host!r} has ordinal {i}, but --cluster lists only {len(cluster)} nodes")
    return cluster[i]


@app.command()
def serve(
    node: Annotated[str, typer.Option(
        "--node", "-n", help="This replica's name, e.g. G1 ('auto': the N-th --cluster member "
        "for a host named NAME-N, as in a StatefulSet).")],
    listen: Annotated[str, typer.Option(
        help="HOST:PORT to listen on (port 0: any free port, printed when ready).")
    ] = "127.0.0.1:7000",
    peer: Annotated[list[str] | None, typer.Option(
        "--peer", help="A peer as NAME=HOST:PORT; repeat it (or comma-separate) for each peer.")
    ] = None,
    cluster: Annotated[str | None, typer.Option(
        help="Every node as NAME=HOST:PORT,… including this one (instead of --peer).")
    ] = None,
    nodes: Annotated[str | None, typer.Option(
        help="All node names in scenario order, comma-separated (default: from the peers).")
    ] = None,
    policy: Annotated[str, typer.Option("--policy", "-p", help="Policy: cp, ap, …")] = "cp",
    data: Annotated[Path | None, typer.Option(
        help="Folder for durable state; a replica restarted on it keeps what it acknowledged.")
    ] = None,
    scenario: Annotated[Path | None, typer.Option(
        help="Take the initial values, timeout and policy parameters from this scenario.")
    ] = None,
    initial: Annotated[list[str] | None, typer.Option(
        "--initial", help="An initial value KEY=VALUE (repeatable), e.g. x=v0.")] = None,
    initial_json: Annotated[str | None, typer.Option(
        help='Initial values as a JSON object, e.g. {"x": "v0"}.')] = None,
    params: Annotated[str | None, typer.Option(
        help='Policy parameters as a JSON object, e.g. {"sync_interval": 0.5}.')] = None,
    timeout: Annotated[float | None, typer.Option(
        help="The clients' timeout in seconds (cp gives up at a fraction of it). Default 1.")
    ] = None,
    speed: Annotated[float, typer.Option(
        help="Run timers K times faster (a driver with --speed K passes the same K).")] = 1.0,
    hold: Annotated[bool, typer.Option(
        help="Listen, but start the policy only when a driver says 'start'.")] = False,
    seed: Annotated[int, typer.Option(
        help="The run's seed; the policy's own random generator (raft's election "
        "timeouts) is seeded from it and the node's name.")] = 0,
    lifeline: Annotated[bool, typer.Option(
        help="Exit when standard input closes (used by `capsim live`).")] = False,
    standby: Annotated[bool, typer.Option(
        help="Load everything, then wait for a line on standard input before reading --data "
        "and listening (how `capsim live` restarts a crashed replica without import delay).")
    ] = False,
    self_link: Annotated[str | None, typer.Option(
        help="HOST:PORT that relays this replica's messages to itself (a `capsim live` "
        "proxy); without it they are handed back at once.")] = None,
    secret_file: Annotated[Path | None, typer.Option(
        help="File holding the cluster secret (default: $CAPSIM_SECRET_FILE, or the secret "
        "itself in $CAPSIM_SECRET). Peer and control messages must be signed with it.")
    ] = None,
    insecure: Annotated[bool, typer.Option(
        help="Run without a secret: accept unsigned peer and control messages from anyone "
        "who can connect (one laptop, nothing else on the network).")] = False,
    signed_clients: Annotated[bool, typer.Option(
        help="Also refuse client requests and watches that are not signed with the secret "
        "(by default anyone who can connect may read and write).")] = False,
    max_conns: Annotated[int, typer.Option(
        help="Connections held open at once; more are refused.")] = 64,
    idle_timeout: Annotated[float, typer.Option(
        help="Seconds an unauthenticated connection may take to send a whole line.")] = 60.0,
) -> None:
    """Run one replica of a policy as a real TCP server (JSON Lines; see docs/live.md).

    Example: capsim serve --node G1 --listen 127.0.0.1:7001 --peer G2=127.0.0.1:7002 --policy ap
    """
    with user_errors():
        from capsim.errors import CapsimError
        from capsim.live.protocol import parse_address
        from capsim.live.server import ServerConfig, describe_peers, run_server
        from capsim.policies import get_policy

        members = _members([cluster], "--cluster") if cluster else {}
        peers = _members(peer or [], "--peer")
        if members and peers:
            raise die("give either --cluster or --peer, not both")
        if node == "auto":
            node = _ordinal_node(list(members))
        if members:
            if node not in members:
                raise die(f"--cluster does not list this node {node!r}")
            peers = {n: a for n, a in members.items() if n != node}
        try:
            host, port = parse_address(listen, "--listen")
            own = parse_address(self_link, "--self-link") if self_link else None
        except ValueError as exc:
            raise die(str(exc)) from None
        get_policy(policy)
        from capsim.i18n import t
        from capsim.live.auth import load_secret

        secret = load_secret(secret_file)
        if secret is not None and insecure:
            raise die(t("--insecure and a cluster secret contradict each other; give one."))
        if max_conns < 1 or not idle_timeout > 0:
            raise die(t("--max-conns and --idle-timeout must be positive."))
        init: dict[str, Any] = {}
        pparams: dict[str, Any] = {}
        tmo = 1.0
        order = list(members) if members else []
        if scenario is not None:
            from capsim.scenario import load_scenario

            sc = load_scenario(scenario)
            init, pparams, tmo = dict(sc.initial), dict(sc.params.get(policy, {})), sc.timeout
            order = order or list(sc.nodes)
        init.update(_initial(initial or [], initial_json))
        if params:
            try:
                extra = json.loads(params)
            except json.JSONDecodeError as exc:
                raise die(f"--params: not JSON ({exc.msg})") from None
            if not isinstance(extra, dict):
                raise die('--params must be a JSON object, e.g. {"sync_interval": 0.5}')
            pparams.update(extra)
        if nodes:
            order = split_csv(nodes)
        try:
            cfg = ServerConfig(node=node, peers=peers, policy=policy, nodes=order,
                               initial=init, params=pparams,
                               timeout=tmo if timeout is None else timeout,
                               speed=speed, data=data, hold=hold, self_link=own, seed=seed,
                               secret=secret, client_auth=signed_clients,
                               max_conns=max_conns, idle_timeout=idle_timeout)
        except CapsimError as exc:
            raise die(str(exc)) from None
        if secret is None and not insecure:
            raise die(t("capsim serve needs the cluster secret: set CAPSIM_SECRET (at least 16 "
                        "characters, the same on every replica and for the driver) or pass "
                        "--secret-file FILE. On a laptop with nothing else on the network, "
                        "--insecure runs without one."))

        def announce(info: dict[str, Any]) -> None:
            sys.stdout.write(json.dumps(info) + "\n")
            sys.stdout.flush()
            typer.echo(f"capsim serve: {node} ({cfg.policy}) listening on {info['listen']}; "
                       f"peers: {describe_peers(peers)}"
                       + ("; restored from " + str(data) if info.get("restored") else ""),
                       err=True)

        if standby:
            sys.stdout.write(json.dumps({"type": "standby", "node": node}) + "\n")
            sys.stdout.flush()
            if not os.read(0, 64):
                return  # the driver went away before it needed this replica
        try:
            run_server(cfg, host, port, lifeline=lifeline, announce=announce)
        except OSError as exc:
            raise die(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        except ValueError as exc:  # a saved set-up that does not validate
            raise die(str(exc)) from None
        typer.echo(f"capsim serve: {node} stopped", err=True)


@app.command()
def live(
    scenario: ScenarioArg = None,
    policy: PolicyOpt = None,
    speed: Annotated[float, typer.Option(
        help="Run K times faster than the scenario's clock (times are scaled back).")] = 1.0,
    seed: SeedOpt = None,
    nrw: NrwOpt = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    no_write: NoWriteOpt = False,
    attach: Annotated[str | None, typer.Option(
        help="Drive running replicas instead of starting processes: G1=HOST:PORT,G2=HOST:PORT.")
    ] = None,
    nemesis: Annotated[str, typer.Option(
        help="How faults are injected: auto (proxies; with --attach: the replicas' control "
        "messages), control, or external (you cut the network yourself).")] = "auto",
    isolation: Annotated[str, typer.Option(
        help="proxy (default): faults through capsim's proxies on 127.0.0.1. "
        "netns: separate network namespaces (not available yet).")] = "proxy",
    secret_file: Annotated[Path | None, typer.Option(
        help="With --attach: file holding the replicas' cluster secret (default: "
        "$CAPSIM_SECRET_FILE or $CAPSIM_SECRET). Without --attach a fresh secret is made.")
    ] = None,
    plot: PlotOpt = None,
    no_plot: NoPlotOpt = False,
    messages: MessagesOpt = False,
    export_edn: ExportEdnOpt = False,
    lang: LangOpt = None,
    no_html: NoHtmlOpt = False,
) -> None:
    """Run a scenario on real replica processes, break the real network, check the history.

    Prints the same table and writes the same run folder as `capsim run`, so
    `capsim check` and `capsim plot` work on it. If the harness itself fails
    (a replica that will not start or restart, a proxy or a watch that stops),
    the run exits 1 with the reason and writes nothing.
    """
    if plot is not None and no_plot:
        raise die("--plot and --no-plot contradict each other; give one")
    formats = () if no_plot else parse_formats(plot)
    import signal

    staged = None
    reaper = None
    try:
        with user_errors():
            from capsim.atomic import commit_dir, staging_dir
            from capsim.cli.run import _nrw_params, print_results, write_results
            from capsim.live.auth import load_secret
            from capsim.live.driver import HarnessError, run_live
            from capsim.live.reaper import Reaper
            from capsim.scenario import load_scenario, seed_scenario

            if isolation == "netns":
                raise die(_NETNS_MISSING)
            if isolation != "proxy":
                raise die(f"--isolation must be proxy or netns (got {isolation!r})")
            if not speed > 0 or speed == float("inf"):
                raise die(f"--speed must be positive (got {speed:g})")
            sc = seed_scenario() if scenario is None else load_scenario(scenario)
            targets = _members([attach], "--attach") if attach else None
            secret = load_secret(secret_file) if targets is not None else None
            policies = split_csv(policy) or sc.policies
            quorum_params = _nrw_params(nrw, policies, len(sc.nodes))
            target = out if out is not None else Path("runs") / f"{sc.name}-live"
            reaper = Reaper()
            staged = None if no_write else staging_dir(target, force=force)
            if staged is not None:
                reaper.add(staged)
            results = []
            for p in policies:
                if not as_json:
                    typer.echo(f"live: {sc.name} under {p} at speed {speed:g} "
                               f"({sc.duration / speed:.1f} s)…", err=True)
                try:
                    results.append(run_live(
                        sc, policy=p, seed=seed, speed=speed, attach=targets, nemesis=nemesis,
                        params=quorum_params if p == "quorum" else None, secret=secret,
                        reaper=reaper))
                except HarnessError as exc:
                    raise die(str(exc), code=1) from None
            if staged is not None:
                write_results(results, staged, export_edn=export_edn, formats=formats,
                              messages=messages, lang=lang or "en", html=not no_html)
                commit_dir(staged, target, force=force)
                reaper.forget(staged)
                staged = None
    finally:
        # A Ctrl-C during the clean-up must not break it (nor print a traceback).
        if staged is not None:
            import shutil

            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            shutil.rmtree(staged, ignore_errors=True)
            if reaper is not None:
                reaper.forget(staged)
            signal.signal(signal.SIGINT, previous)
        if reaper is not None:
            reaper.close()
    print_results(results, as_json, None if no_write else target, lang)


_NETNS_MISSING = (
    "--isolation netns is not available in this version of capsim. It would need root, "
    "iproute2's `ip netns` and nftables to put each replica in its own network namespace "
    "joined by veth pairs, and capsim does not set those up yet. Use the default "
    "--isolation proxy: every link passes through a capsim proxy on 127.0.0.1 that drops, "
    "delays and cuts messages, which gives the same faults without root."
)

