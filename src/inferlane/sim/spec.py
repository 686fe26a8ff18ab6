"""The fleet file (``fleet.yaml``): which simulated servers to run, and how they behave."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, model_validator
from pydantic.alias_generators import to_camel

from inferlane.sim.engine import EngineConfig
from inferlane.sim.faults import FaultSettings
from inferlane.sim.presets import DEFAULT_PRESET, PRESETS
from inferlane.sim.spec_types import Duration, NonNegative, SpecModel
from inferlane.sim.timing import Timing

Kind = Literal["vllm", "tei", "tfserving", "kserve"]


class TimingSpec(SpecModel):
    prefill_overhead: Duration | None = None
    prefill_per_token: Duration | None = None
    decode_base: Duration | None = None
    decode_per_seq: Duration | None = None
    batch_base: Duration | None = None
    batch_per_item: Duration | None = None
    jitter: NonNegative = 0.0


class EngineSpec(SpecModel):
    max_num_seqs: int | None = Field(default=None, ge=1)
    num_gpu_blocks: int | None = Field(default=None, ge=1)
    block_size: int = Field(default=16, ge=1)
    max_model_len: int | None = Field(default=None, ge=2)
    max_num_batched_tokens: int = Field(default=8192, ge=1)
    enable_prefix_caching: bool = True


class OutputSpec(SpecModel):
    min_tokens: int = Field(default=16, ge=1)
    max_tokens: int = Field(default=256, ge=1)


class LoraSpec(SpecModel):
    name: str
    path: str = ""


class StartupDelay(SpecModel):
    refuse: Duration = 0.0
    loading: Duration = 0.0


class ModelSpec(SpecModel):
    name: str = Field(min_length=1)
    kind: Kind = "vllm"
    replicas: int = Field(default=1, ge=1, le=256)
    port: int = Field(default=0, ge=0, le=65535)
    host: str | None = None
    preset: str | None = None
    time_scale: NonNegative | None = None
    seed: int | None = None
    timing: TimingSpec = TimingSpec()
    engine: EngineSpec = EngineSpec()
    output: OutputSpec = OutputSpec()
    loras: list[LoraSpec] = Field(default_factory=list)
    max_loras: int = Field(default=4, ge=1)
    max_cpu_loras: int = Field(default=8, ge=1)
    lora_load_latency: Duration = 0.5
    embedding_dimensions: int = Field(default=384, ge=1, le=65536)
    output_dimensions: int = Field(default=4, ge=1, le=65536)
    model_version: str = "1"
    max_client_batch_size: int = Field(default=32, ge=1)
    metrics_flavor: Literal["vllm", "sglang", "tgi"] = "vllm"
    deprecated_metrics: bool = False
    prompt_tokens_details: bool = True
    vllm_version: str = "0.11.0"
    request_timeout: Duration = 600.0
    faults: FaultSettings = FaultSettings()
    startup_delay: StartupDelay = StartupDelay()

    @model_validator(mode="after")
    def _check(self) -> ModelSpec:
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; known: {', '.join(sorted(PRESETS))}")
        if self.output.min_tokens > self.output.max_tokens:
            raise ValueError("output.minTokens must not exceed output.maxTokens")
        config = self.engine_config()
        if config.num_gpu_blocks * config.block_size < config.max_model_len:
            raise ValueError(
                f"engine.numGpuBlocks × blockSize ({config.num_gpu_blocks * config.block_size} tokens) "
                f"must hold one maxModelLen ({config.max_model_len}) sequence"
            )
        return self

    @property
    def preset_name(self) -> str:
        return self.preset or DEFAULT_PRESET[self.kind]

    def timing_model(self) -> Timing:
        base = TimingSpec.model_validate(PRESETS[self.preset_name]["timing"])
        merged = {
            name: getattr(self.timing, name)
            if getattr(self.timing, name) is not None
            else getattr(base, name)
            for name in TimingSpec.model_fields
            if name != "jitter"
        }
        return Timing(**{k: v or 0.0 for k, v in merged.items()}, jitter=self.timing.jitter)

    def engine_config(self) -> EngineConfig:
        preset = PRESETS[self.preset_name]["engine"]
        e = self.engine
        max_model_len = e.max_model_len or preset.get("maxModelLen", 8192)
        blocks = e.num_gpu_blocks or preset.get("numGpuBlocks", 28000)
        return EngineConfig(
            max_num_seqs=e.max_num_seqs or preset.get("maxNumSeqs", 256),
            num_gpu_blocks=blocks,
            block_size=e.block_size,
            max_model_len=max_model_len,
            max_num_batched_tokens=e.max_num_batched_tokens,
            enable_prefix_caching=e.enable_prefix_caching,
            max_loras=self.max_loras,
        )


class FleetSpec(SpecModel):
    time_scale: NonNegative = 1.0
    host: str = "127.0.0.1"
    seed: int = 0
    models: list[ModelSpec] = Field(min_length=1)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FleetSpec:
        return cls.model_validate(data)

    @classmethod
    def from_yaml_file(cls, path: str | Path) -> FleetSpec:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: the fleet file must be a mapping with a 'models' list")
        return cls.model_validate(data)

    @classmethod
    def quick(
        cls,
        model: str,
        replicas: int = 1,
        port: int = 0,
        time_scale: float = 1.0,
        kind: str = "vllm",
        host: str = "127.0.0.1",
        **overrides: Any,
    ) -> FleetSpec:
        """One model, ``replicas`` replicas on consecutive ports from ``port``; overrides are model keys."""
        entry = {"name": model, "kind": kind, "replicas": replicas, "port": port}
        entry.update({to_camel(k): v for k, v in overrides.items()})
        return cls.model_validate({"timeScale": time_scale, "host": host, "models": [entry]})
