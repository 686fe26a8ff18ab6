"""Published-profile presets: timing and engine sizes for common model/GPU pairs.

Sources: llm-d-inference-sim latency profiles (7-8B on one H100: TTFT 60-120 ms, ITL 10-15 ms, prefill
overhead 25-40 ms, 0.15-0.30 ms/token on its slow end; 70B on TP4: TTFT 250-400 ms, ITL 25-40 ms) and
vLLM's KV-cache sizing (num_gpu_blocks from free GPU memory / bytes per 16-token block, GQA models).
Values are camelCase spec keys; a model's own ``timing``/``engine`` keys override them.
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    # Qwen2.5-7B / Llama-3-8B class on one H100 80GB.
    "h100-7b": {
        "timing": {
            "prefillOverhead": "25ms",
            "prefillPerToken": "0.1ms",
            "decodeBase": "10ms",
            "decodePerSeq": "0.1ms",
            "batchBase": "5ms",
            "batchPerItem": "0.2ms",
        },
        "engine": {"numGpuBlocks": 28000, "maxNumSeqs": 256, "maxModelLen": 32768},
    },
    # Qwen2.5-32B class on two H100s (TP2).
    "h100x2-32b": {
        "timing": {
            "prefillOverhead": "40ms",
            "prefillPerToken": "0.18ms",
            "decodeBase": "18ms",
            "decodePerSeq": "0.08ms",
            "batchBase": "10ms",
            "batchPerItem": "0.5ms",
        },
        "engine": {"numGpuBlocks": 20000, "maxNumSeqs": 256, "maxModelLen": 32768},
    },
    # Llama-3-70B / Qwen2.5-72B class on four H100s (TP4).
    "h100x4-70b": {
        "timing": {
            "prefillOverhead": "60ms",
            "prefillPerToken": "0.25ms",
            "decodeBase": "25ms",
            "decodePerSeq": "0.06ms",
            "batchBase": "15ms",
            "batchPerItem": "0.8ms",
        },
        "engine": {"numGpuBlocks": 30000, "maxNumSeqs": 256, "maxModelLen": 32768},
    },
    # A small embedding / reranking model (MiniLM / bge-small class) on one GPU: batching pays off.
    "embed-small": {
        "timing": {"batchBase": "8ms", "batchPerItem": "0.25ms"},
        "engine": {"maxModelLen": 512},
    },
    # A classic (TF Serving / KServe) model on one GPU.
    "classic": {
        "timing": {"batchBase": "10ms", "batchPerItem": "0.3ms"},
        "engine": {},
    },
    # Answers immediately: for benchmarking a proxy without the simulator in the way.
    "zero": {"timing": {}, "engine": {}},
}

DEFAULT_PRESET = {"vllm": "h100-7b", "tei": "embed-small", "tfserving": "classic", "kserve": "classic"}
