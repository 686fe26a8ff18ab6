"""``GET /metrics`` of one replica: one collector in the replica's own registry (never the global one) that
reads live state at scrape time, under vLLM's names (or SGLang's, TGI's, TEI's, TF Serving's / Triton's)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from inferlane.sim.context import ReplicaContext
from inferlane.sim.metrics_other import ClassicCollector, SglangCollector, TeiCollector, TgiCollector
from inferlane.sim.metrics_vllm import VllmCollector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def build_registry(ctx: ReplicaContext) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    if ctx.kind == "tei":
        registry.register(TeiCollector(ctx))
    elif ctx.kind in ("tfserving", "kserve"):
        registry.register(ClassicCollector(ctx))
    elif ctx.spec.metrics_flavor == "sglang":
        registry.register(SglangCollector(ctx))
    elif ctx.spec.metrics_flavor == "tgi":
        registry.register(TgiCollector(ctx))
    else:
        registry.register(VllmCollector(ctx))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
