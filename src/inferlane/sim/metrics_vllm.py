"""vLLM's metrics (current names, ``model_name``/``engine`` labels), read from the engine at scrape time."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from inferlane.sim.context import SLEEP_STATES, ReplicaContext
from inferlane.sim.metric_families import counter, gauge, histogram


class VllmCollector(Collector):
    def __init__(self, ctx: ReplicaContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        ctx = self.ctx
        engine, st = ctx.engine, ctx.engine.stats
        lb = {"model_name": ctx.model, "engine": "0"}
        yield gauge("vllm:num_requests_running", "Number of requests in model execution batches.", lb,
                     len(engine.running))  # fmt: skip
        yield gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", lb,
                     len(engine.waiting))  # fmt: skip
        yield gauge(
            "vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", lb, engine.pool.usage
        )
        sleep = GaugeMetricFamily(
            "vllm:engine_sleep_state", "Engine sleep state.", labels=[*lb, "sleep_state"]
        )
        for level, state in enumerate(SLEEP_STATES):
            on = ctx.sleep_level == level if level else ctx.sleep_level == 0
            sleep.add_metric([*lb.values(), state], 1.0 if on else 0.0)
        yield sleep
        c = engine.config
        info = {"block_size": str(c.block_size), "cache_dtype": "auto",
                "enable_prefix_caching": str(c.enable_prefix_caching), "gpu_memory_utilization": "0.9",
                "num_cpu_blocks": "0", "num_gpu_blocks": str(c.num_gpu_blocks), "engine": "0"}  # fmt: skip
        yield gauge("vllm:cache_config_info", "Information of the LLMEngine CacheConfig", info, 1.0)
        lora = {
            "max_lora": str(c.max_loras),
            "waiting_lora_adapters": ",".join(sorted(engine.waiting_loras())),
            "running_lora_adapters": ",".join(sorted(engine.running_loras())),
        }
        yield gauge("vllm:lora_requests_info", "Running stats on lora requests.", lora, time.time())
        counters = [
            ("vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens.",
             st.prefix_queries),
            ("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.",
             st.prefix_hits),
            ("vllm:num_preemptions", "Cumulative number of preemption from the engine.", st.preemptions),
            ("vllm:prompt_tokens", "Number of prefill tokens processed.", st.prompt_tokens),
            ("vllm:generation_tokens", "Number of generation tokens processed.", st.generation_tokens),
        ]  # fmt: skip
        for name, doc, value in counters:
            yield counter(name, doc, lb, value)
        success = CounterMetricFamily("vllm:request_success", "Count of successfully processed requests.",
                                      labels=[*lb, "finished_reason"])  # fmt: skip
        for reason in ("stop", "length", "abort"):
            success.add_metric([*lb.values(), reason], st.finished[reason])
        yield success
        yield from self._histograms(lb)
        if ctx.spec.deprecated_metrics:
            yield gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. DEPRECATED: Use "
                         "vllm:kv_cache_usage_perc instead.", lb, engine.pool.usage)  # fmt: skip
            yield counter("vllm:gpu_prefix_cache_queries", "DEPRECATED", lb, st.prefix_queries)
            yield counter("vllm:gpu_prefix_cache_hits", "DEPRECATED", lb, st.prefix_hits)

    def _histograms(self, lb: dict[str, str]) -> Iterator[Metric]:
        st = self.ctx.engine.stats
        table = [
            ("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", st.ttft),
            ("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", st.itl),
            ("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", st.e2e),
            ("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.",
             st.queue),
            ("vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.",
             st.prefill),
            ("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.",
             st.decode),
            ("vllm:request_prompt_tokens", "Number of prefill tokens processed.", st.request_prompt),
            ("vllm:request_generation_tokens", "Number of generation tokens processed.",
             st.request_generation),
            ("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.",
             st.iteration_tokens),
        ]  # fmt: skip
        for name, doc, hist in table:
            yield histogram(name, doc, lb, hist)
