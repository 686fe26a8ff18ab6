"""A fleet of simulated replicas in one process: every model's replicas, each on its own port."""

from __future__ import annotations

import zlib
from types import TracebackType

from inferlane.sim.context import ReplicaContext
from inferlane.sim.replica import Replica
from inferlane.sim.spec import FleetSpec


class SimFleet:
    def __init__(self, spec: FleetSpec) -> None:
        self.spec = spec
        self.replicas: list[Replica] = []

    def _build(self) -> list[Replica]:
        out = []
        for model in self.spec.models:
            base_seed = model.seed if model.seed is not None else self.spec.seed
            scale = model.time_scale if model.time_scale is not None else self.spec.time_scale
            for index in range(model.replicas):
                seed = base_seed * 1_000_003 + zlib.crc32(model.name.encode()) + index
                ctx = ReplicaContext(name=f"{model.name}-{index}", spec=model, time_scale=scale, seed=seed)
                port = model.port + index if model.port else 0
                out.append(Replica(ctx, model.host or self.spec.host, port))
        return out

    async def start(self) -> None:
        """Bind and start every replica (port 0 = ephemeral; read ``replica.port``/``url`` afterwards)."""
        replicas = self._build()
        try:
            for replica in replicas:
                replica.bind()
            for replica in replicas:
                await replica.start()
                self.replicas.append(replica)
        except BaseException:
            self.replicas = replicas
            await self.stop()
            raise

    async def wait_ready(self, timeout: float = 60.0) -> None:
        for replica in self.replicas:
            await replica.wait_ready(timeout)

    async def stop(self) -> None:
        replicas, self.replicas = self.replicas, []
        for replica in replicas:
            await replica.stop()

    def by_model(self, model: str) -> list[Replica]:
        return [r for r in self.replicas if r.model == model]

    async def __aenter__(self) -> SimFleet:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
