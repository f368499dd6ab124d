"""Which module holds which command, and the words of ``capsim --help``.

Plain data with no imports, so ``capsim --help`` can answer from it without
loading typer or rich (see :func:`capsim.cli.quick_help`).
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "Run a scenario, check its history, print a table and write the run folder."),
    "validate": ("run", "Check scenario files without running them; exit 2 if any is invalid."),
    "schema": ("run", "Print the JSON Schema of scenario files (for editor completion)."),
    "policies": ("run", "List the policies and the operations each offers."),
    "check": ("check",
              "Check whether a history is linearizable and explain a violation in words."),
    "plot": ("plot", "Redraw a saved run's pictures from its history.jsonl and result.json."),
    "pbs": ("pbs",
            "Probabilistically Bounded Staleness: run the WARS Monte Carlo of Bailis et al."),
    "serve": ("live",
              "Run one replica of a policy as a real TCP server (JSON Lines; see docs/live.md)."),
    "live": ("live", "Run a scenario on real replica processes, break the real network, check the "
                     "history."),
    "sweep": ("sweep", "Run a scenario many times with fields varied (on all cores or a Dask "
                       "cluster), and plot the results."),
    "lab": ("lab", "Docker and minikube for the course: doctor, mirror, manifests, steps."),
}
"""Command name → (module under ``capsim.cli``, the one-line help of ``capsim --help``)."""

ABOUT = (
    "capsim: see the CAP theorem. Run partition scenarios under consistent (cp) and available "
    "(ap) policies, check every history for linearizability, and draw it.\n\n"
    "Start with `capsim run` (the seed story: G1 and G2, a broken link, a write and a read)."
)
"""What ``capsim --help`` says first; ``capsim.cli.root`` uses the same words."""
