"""Everything the HTTP handlers of one replica share: its spec, engine, device, faults, LoRAs, state."""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from inferlane.sim.batcher import BatchDevice
from inferlane.sim.engine import Engine
from inferlane.sim.faults import FaultControl
from inferlane.sim.output import PIECES
from inferlane.sim.problems import ApiError, model_not_found
from inferlane.sim.runner import EngineRunner
from inferlane.sim.spec import ModelSpec

SLEEP_STATES = ("awake", "weights_offloaded", "discard_all")


@dataclass(eq=False)
class ReplicaContext:
    name: str
    spec: ModelSpec
    time_scale: float
    seed: int
    rng: random.Random = field(init=False)
    engine: Engine = field(init=False)
    runner: EngineRunner = field(init=False)
    device: BatchDevice = field(init=False)
    faults: FaultControl = field(init=False)
    loras: dict[str, str] = field(init=False)
    sleep_level: int = 0
    phase: str = "starting"  # starting (refusing) -> loading (/health 503) -> ready
    created: int = field(default_factory=lambda: int(time.time()))
    piece_json: tuple[bytes, ...] = field(init=False)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        timing = self.spec.timing_model()
        self.engine = Engine(self.spec.engine_config(), timing, random.Random(self.seed + 1))
        self.runner = EngineRunner(self.engine, self.time_scale)
        self.device = BatchDevice(timing, self.time_scale, random.Random(self.seed + 2))
        self.faults = FaultControl(self.spec.faults)
        self.loras = {lora.name: lora.path for lora in self.spec.loras}
        self.piece_json = tuple(orjson.dumps(p) for p in PIECES)

    @property
    def model(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def max_model_len(self) -> int:
        return self.engine.config.max_model_len

    def request_id(self, prefix: str) -> str:
        return f"{prefix}-{self.name}-{next(self._ids):x}"

    def resolve_model(self, requested: object) -> str | None:
        """The LoRA adapter a request names (None for the base model); 404 for anything else."""
        if requested is None or requested == self.model:
            return None
        if isinstance(requested, str) and requested in self.loras:
            return requested
        raise model_not_found(str(requested))

    def check_awake(self) -> None:
        if self.sleep_level:
            raise ApiError(503, f"The engine is sleeping (level {self.sleep_level}); POST /wake_up first.")

    def load_report(self) -> list[tuple[str, float]]:
        return [
            ("kv_cache_usage_perc", float(self.engine.pool.usage)),
            ("num_requests_waiting", float(len(self.engine.waiting))),
            ("num_requests_running", float(len(self.engine.running))),
        ]

    def orca_header(self, request: web.Request) -> dict[str, str]:
        """vLLM's ``endpoint-load-metrics`` response header, when the request asked for one."""
        fmt = request.headers.get("endpoint-load-metrics-format", "").strip().lower()
        if fmt == "text":
            text = ", ".join(f"named_metrics.{k}={v}" for k, v in self.load_report())
            return {"endpoint-load-metrics": f"TEXT {text}"}
        if fmt == "json":
            body = orjson.dumps({"named_metrics": dict(self.load_report())}).decode()
            return {"endpoint-load-metrics": f"JSON {body}"}
        return {}


async def read_json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ApiError(400, f"Invalid JSON body: {error}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps(data), content_type="application/json", headers=headers
    )
