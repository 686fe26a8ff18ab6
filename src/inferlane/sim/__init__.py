"""A vLLM-faithful simulated model fleet (``inferlane sim``): API, engine, prefix cache, metrics, faults."""

from inferlane.sim.faults import FaultControl, FaultSettings
from inferlane.sim.fleet import SimFleet
from inferlane.sim.replica import Replica
from inferlane.sim.spec import FleetSpec, ModelSpec

__all__ = ["FaultControl", "FaultSettings", "FleetSpec", "ModelSpec", "Replica", "SimFleet"]
