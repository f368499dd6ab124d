"""The simulator: SimPy engine, network, nemesis, clients. No plotting, no CLI."""

from capsim.sim.simulate import simulate

__all__ = ["simulate"]
