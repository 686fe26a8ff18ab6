"""One observation of an endpoint's load, and the two readers that make one: vLLM's ORCA
``endpoint-load-metrics`` response header, and a model server's Prometheus metrics page.

Pure: bytes/strings in, a :class:`LoadReport` out. The metric maps cover vLLM (current and deprecated
names), SGLang, TGI, trtllm-serve and Triton (TensorRT-LLM backend and the generic pending count); in
``auto`` mode every map is read, since the families' names do not collide. Several series of one gauge
(vLLM's ``engine`` label for data-parallel ranks) are summed for queues and maxed for KV usage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson


@dataclass(frozen=True, slots=True)
class LoadReport:
    """Signals read at one moment; None: this source did not say."""

    queue_depth: int | None = None
    running: int | None = None
    #: KV-cache usage, 0..1
    kv_usage: float | None = None
    loras_loaded: frozenset[str] | None = None
    loras_waiting: frozenset[str] | None = None
    max_loras: int | None = None
    sleeping: bool | None = None
    num_gpu_blocks: int | None = None
    block_size: int | None = None


# --- ORCA header ----------------------------------------------------------------------------------

ORCA_REQUEST_HEADER = "endpoint-load-metrics-format"
ORCA_RESPONSE_HEADER = "endpoint-load-metrics"
_ORCA_FIELDS = {
    "kv_cache_usage_perc": "kv_usage",
    "gpu_cache_usage_perc": "kv_usage",
    "num_requests_waiting": "queue_depth",
    "num_requests_running": "running",
}


def parse_orca(value: str) -> LoadReport | None:
    """``TEXT named_metrics.kv_cache_usage_perc=0.4, named_metrics.num_requests_waiting=3`` or
    ``JSON {"named_metrics": {...}}`` (the prefix is optional); None when nothing known is in it."""
    text = value.strip()
    head, _, rest = text.partition(" ")
    if head.upper() in ("TEXT", "JSON"):
        text = rest.strip()
    metrics: dict[str, float] = {}
    if text.startswith("{"):
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        named = data.get("named_metrics") if isinstance(data, dict) else None
        if isinstance(named, dict):
            metrics = {k: float(v) for k, v in named.items() if isinstance(v, int | float)}
    else:
        for part in text.split(","):
            key, eq, number = part.strip().partition("=")
            if not eq:
                continue
            try:
                metrics[key.removeprefix("named_metrics.")] = float(number)
            except ValueError:
                continue
    fields: dict[str, float | int] = {}
    for key, field in _ORCA_FIELDS.items():
        if key in metrics and field not in fields:
            fields[field] = metrics[key] if field == "kv_usage" else int(metrics[key])
    return LoadReport(**fields) if fields else None  # type: ignore[arg-type]


# --- metrics page ---------------------------------------------------------------------------------

FLAVOR_PATHS = {"trtllm": "/prometheus/metrics"}

#: metric name -> (flavor, field); label-dependent names are handled in ``_labelled``
_PLAIN: dict[str, tuple[str, str]] = {
    "vllm:num_requests_waiting": ("vllm", "queue"),
    "vllm:num_requests_running": ("vllm", "running"),
    "vllm:kv_cache_usage_perc": ("vllm", "kv"),
    "vllm:gpu_cache_usage_perc": ("vllm", "kv_old"),
    "sglang:num_queue_reqs": ("sglang", "queue"),
    "sglang:num_running_reqs": ("sglang", "running"),
    "sglang:token_usage": ("sglang", "kv"),
    "tgi_queue_size": ("tgi", "queue"),
    "tgi_batch_current_size": ("tgi", "running"),
    "trtllm_num_requests_waiting": ("trtllm", "queue"),
    "trtllm_num_requests_running": ("trtllm", "running"),
    "trtllm_kv_cache_utilization": ("trtllm", "kv"),
    "trtllm_kv_cache_max_blocks": ("trtllm", "blocks"),
    "trtllm_kv_cache_tokens_per_block": ("trtllm", "block_size"),
    "nv_inference_pending_request_count": ("triton", "queue_old"),
}
_LABELLED: dict[str, str] = {
    "vllm:lora_requests_info": "vllm",
    "vllm:cache_config_info": "vllm",
    "vllm:engine_sleep_state": "vllm",
    "sglang:cache_config_info": "sglang",
    "nv_trt_llm_request_metrics": "triton",
    "nv_trt_llm_kv_cache_block_metrics": "triton",
}
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def _split(line: str) -> tuple[str, str, float] | None:
    """(name, label text, value) of a sample line; None for a line that is not one."""
    brace = line.find("{")
    if brace >= 0:
        close = line.rfind("}")
        if close < brace:
            return None
        name, labels, rest = line[:brace], line[brace + 1 : close], line[close + 1 :]
    else:
        name, _, rest = line.partition(" ")
        labels = ""
    parts = rest.split()
    if not parts:
        return None
    try:
        return name, labels, float(parts[0])
    except ValueError:
        return None


def _names(value: str) -> frozenset[str]:
    return frozenset(part for part in value.split(",") if part)


class _Reading:
    __slots__ = ("block_size", "blocks", "fields", "lora_at", "loras", "sleeping")

    def __init__(self) -> None:
        self.fields: dict[str, float] = {}
        self.lora_at = -1.0
        self.loras: tuple[frozenset[str], frozenset[str], int | None] | None = None
        self.sleeping: bool | None = None
        self.blocks: int | None = None
        self.block_size: int | None = None

    def add(self, field: str, value: float) -> None:
        fields = self.fields
        if field in ("kv", "kv_old"):
            fields[field] = max(fields.get(field, 0.0), value)
        else:
            fields[field] = fields.get(field, 0.0) + value

    def labelled(self, name: str, labels: dict[str, str], value: float) -> None:
        if name == "vllm:lora_requests_info":
            if value >= self.lora_at:  # the value is a timestamp: the newest series wins
                self.lora_at = value
                limit = labels.get("max_lora", "")
                self.loras = (
                    _names(labels.get("running_lora_adapters", "")),
                    _names(labels.get("waiting_lora_adapters", "")),
                    int(limit) if limit.isdigit() else None,
                )
        elif name in ("vllm:cache_config_info", "sglang:cache_config_info"):
            blocks = labels.get("num_gpu_blocks") or labels.get("num_pages") or ""
            size = labels.get("block_size") or labels.get("page_size") or ""
            if blocks.isdigit() and size.isdigit():
                self.blocks, self.block_size = int(blocks), int(size)
        elif name == "vllm:engine_sleep_state":
            if labels.get("sleep_state") == "awake":
                self.sleeping = value < 0.5 if self.sleeping is None else self.sleeping or value < 0.5
        elif name == "nv_trt_llm_request_metrics":
            kind = labels.get("request_type")
            if kind in ("waiting", "scheduled"):
                self.add("queue" if kind == "waiting" else "running", value)
        elif name == "nv_trt_llm_kv_cache_block_metrics":
            kind = labels.get("kv_cache_block_type")
            if kind == "fraction":
                self.add("kv", value)
            elif kind == "max":
                self.blocks = int(value)
            elif kind == "tokens_per":
                self.block_size = int(value)

    def report(self) -> LoadReport:
        f = self.fields
        queue = f.get("queue", f.get("queue_old"))
        running = f.get("running")
        kv = f.get("kv", f.get("kv_old"))
        blocks, size = self.blocks, self.block_size
        if blocks is None and "blocks" in f:
            blocks = int(f["blocks"])
        if size is None and "block_size" in f:
            size = int(f["block_size"])
        loaded, waiting, limit = self.loras if self.loras is not None else (None, None, None)
        return LoadReport(
            queue_depth=None if queue is None else int(queue),
            running=None if running is None else int(running),
            kv_usage=kv,
            loras_loaded=loaded,
            loras_waiting=waiting,
            max_loras=limit,
            sleeping=self.sleeping,
            num_gpu_blocks=blocks if blocks and size else None,
            block_size=size if blocks and size else None,
        )


def parse_metrics(text: str, flavor: str = "auto") -> LoadReport:
    """The load signals in a Prometheus text page, read with one engine's map (or all: ``auto``)."""
    reading = _Reading()
    any_flavor = flavor == "auto"
    for raw in text.splitlines():
        if not raw or raw[0] == "#":
            continue
        cut = raw.find("{")
        space = raw.find(" ")
        end = cut if 0 <= cut < space or space < 0 else space
        name = raw[:end]
        plain = _PLAIN.get(name)
        if plain is not None:
            if any_flavor or plain[0] == flavor:
                sample = _split(raw)
                if sample is not None:
                    reading.add(plain[1], sample[2])
            continue
        owner = _LABELLED.get(name)
        if owner is not None and (any_flavor or owner == flavor):
            sample = _split(raw)
            if sample is not None:
                labels = dict(_LABEL.findall(sample[1]))
                reading.labelled(name, labels, sample[2])
    return reading.report()
