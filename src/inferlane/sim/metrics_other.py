"""Metric names of other engines, so load-signal readers for them can be tested: SGLang and TGI (as a
``metricsFlavor`` of the vLLM kind), TEI (``kind: tei``), TF Serving and Triton/KServe (classic kinds)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from inferlane.sim.context import ReplicaContext
from inferlane.sim.metric_families import counter, gauge, histogram


class SglangCollector(Collector):
    def __init__(self, ctx: ReplicaContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        engine, st = self.ctx.engine, self.ctx.engine.stats
        lb = {"model_name": self.ctx.model}
        hit_rate = st.prefix_hits / st.prefix_queries if st.prefix_queries else 0.0
        used = sum(len(s.blocks) for s in engine.running) * engine.config.block_size
        yield gauge("sglang:num_running_reqs", "The number of running requests.", lb, len(engine.running))
        yield gauge("sglang:num_queue_reqs", "The number of requests in the waiting queue.", lb,
                    len(engine.waiting))  # fmt: skip
        yield gauge("sglang:token_usage", "The token usage.", lb, engine.pool.usage)
        yield gauge("sglang:num_used_tokens", "The number of used tokens.", lb, used)
        yield gauge("sglang:cache_hit_rate", "The prefix cache hit rate.", lb, hit_rate)
        yield counter("sglang:prompt_tokens", "Number of prefill tokens processed.", lb, st.prompt_tokens)
        yield counter("sglang:generation_tokens", "Number of generation tokens processed.", lb,
                      st.generation_tokens)  # fmt: skip
        yield counter(
            "sglang:num_requests", "The number of processed requests.", lb, sum(st.finished.values())
        )
        yield histogram("sglang:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
                        lb, st.ttft)  # fmt: skip
        yield histogram("sglang:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.",
                        lb, st.itl)  # fmt: skip
        yield histogram("sglang:e2e_request_latency_seconds", "Histogram of End-to-end request latency in "
                        "seconds", lb, st.e2e)  # fmt: skip


class TgiCollector(Collector):
    def __init__(self, ctx: ReplicaContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        engine, st = self.ctx.engine, self.ctx.engine.stats
        tokens_in_batch = sum(s.num_tokens for s in engine.running)
        yield gauge("tgi_queue_size", "Current queue size", {}, len(engine.waiting))
        yield gauge("tgi_batch_current_size", "Current batch size", {}, len(engine.running))
        yield gauge(
            "tgi_batch_current_max_tokens", "Maximum tokens for the current batch", {}, tokens_in_batch
        )
        yield counter("tgi_request_count", "Total number of requests", {}, st.received)
        yield counter("tgi_request_success", "Number of successful requests", {}, sum(st.finished.values()))
        yield histogram("tgi_request_duration", "Request duration", {}, st.e2e)
        yield histogram("tgi_request_queue_duration", "Time spent in the queue per request", {}, st.queue)
        yield histogram("tgi_request_input_length", "Input token length per request", {}, st.request_prompt)
        yield histogram("tgi_request_generated_tokens", "Generated tokens per request", {},
                        st.request_generation)  # fmt: skip


class TeiCollector(Collector):
    def __init__(self, ctx: ReplicaContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        st = self.ctx.device.stats
        requests = CounterMetricFamily("te_request_count", "Total number of requests", labels=["method"])
        requests.add_metric(["batch"], st.requests)
        yield requests
        success = CounterMetricFamily(
            "te_request_success", "Number of successful requests", labels=["method"]
        )
        success.add_metric(["batch"], st.success)
        yield success
        yield counter("te_embed_count", "Total number of inputs", {}, st.items)
        yield gauge("te_queue_size", "Number of requests waiting for the model", {}, st.queued)
        yield histogram("te_request_duration", "Request duration", {}, st.duration)
        yield histogram("te_request_queue_duration", "Queue duration", {}, st.queue_time)
        yield histogram("te_request_inference_duration", "Inference duration", {}, st.inference_time)
        yield histogram("te_batch_next_size", "Batch size", {}, st.batch_size)
        yield histogram("te_request_input_length", "Input length (tokens)", {}, st.input_tokens)


class ClassicCollector(Collector):
    """TF Serving's ``:tensorflow:serving:*`` names, or Triton's ``nv_inference_*`` for KServe v2."""

    def __init__(self, ctx: ReplicaContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        ctx, st = self.ctx, self.ctx.device.stats
        if ctx.kind == "tfserving":
            family = CounterMetricFamily(":tensorflow:serving:request_count", "The total number of requests.",
                                         labels=["model_name", "status"])  # fmt: skip
            family.add_metric([ctx.model, "OK"], st.success)
            yield family
            yield histogram(
                ":tensorflow:serving:request_latency",
                "Distribution of request latency.",
                {"model_name": ctx.model, "API": "predict", "entrypoint": "REST"},
                st.duration,
            )
            return
        lb = {"model": ctx.model, "version": ctx.spec.model_version}
        yield counter(
            "nv_inference_request_success", "Number of successful inference requests", lb, st.success
        )
        yield counter("nv_inference_request_failure", "Number of failed inference requests", lb, st.failures)
        yield counter("nv_inference_count", "Number of inferences performed", lb, st.items)
        yield counter("nv_inference_exec_count", "Number of model executions performed", lb, st.batches)
        yield gauge("nv_inference_pending_request_count", "Instantaneous number of pending requests", lb,
                    st.queued)  # fmt: skip
        yield histogram("request_predict_seconds", "predict latency", {"model_name": ctx.model}, st.duration)
