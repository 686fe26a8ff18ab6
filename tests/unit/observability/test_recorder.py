"""The recorder's arithmetic on a fake clock: TTFT, inter-token latency, proxy overhead, estimates."""

from __future__ import annotations

import pytest

from inferlane.model import ProxyRequest
from inferlane.observability.metrics import ProxyMetrics
from inferlane.observability.observer import Observer
from inferlane.observability.sse_usage import SseUsageTap
from inferlane.observability.usage import Usage
from inferlane.pipeline.context import RequestContext
from support.clock import Clock


def streamed_request(observer: Observer, clock: Clock, content: str = "abcdefgh") -> RequestContext:
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": content}]}
    request = ProxyRequest("POST", "/v1/chat/completions", "/v1/chat/completions", {}, b"{}", "", 0.0)
    ctx = RequestContext(request, "r", clock.now, clock.now + 60, body)
    ctx.route, ctx.backend = "chat", "pool"
    clock.now += 0.002  # decide stages
    obs = observer.begin(ctx)
    obs.generation = True
    obs.upstream_s = 0.050  # one attempt until headers
    obs.stream_started_at = clock.now + 0.050
    obs.tap = SseUsageTap(True, clock)
    obs.tap.first_token_at = ctx.started + 0.200
    obs.tap.token_events = 11
    obs.stream_ended(ctx.started + 1.200)  # 1 s of streaming after the first token
    return ctx


def sample(metrics: ProxyMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_stream_timings_and_reported_usage():
    clock, metrics = Clock(100.0), ProxyMetrics()
    observer = Observer(metrics, clock)
    ctx = streamed_request(observer, clock)
    ctx.usage = Usage(40, 11, 32)
    observer.finished(ctx, 200, "", 1.210)
    labels = {"route": "chat", "backend": "pool", "model": "m", "version": "-"}
    assert sample(metrics, "inferlane_time_to_first_token_seconds_sum", **labels) == pytest.approx(0.2)
    assert sample(metrics, "inferlane_time_per_output_token_seconds_sum", **labels) == pytest.approx(0.1)
    overhead = sample(metrics, "inferlane_proxy_overhead_seconds_sum", route="chat")
    assert overhead == pytest.approx(1.210 - 0.050 - (1.200 - 0.052))  # total - attempt - stream relay
    assert sample(metrics, "inferlane_tokens_total", **labels, type="cached", estimated="false") == 32
    assert sample(metrics, "ai_inference_tokens_total", model="m", type="input") == 40
    assert sample(metrics, "http_requests_total", service="pool", route="chat", model="m", version="-",
                  code="2xx", status="200") == 1  # fmt: skip


def test_no_usage_is_estimated_from_the_prompt_and_token_events():
    clock, metrics = Clock(100.0), ProxyMetrics()
    observer = Observer(metrics, clock)
    ctx = streamed_request(observer, clock, content="x" * 40)
    observer.finished(ctx, 200, "", 1.210)
    assert ctx.usage == Usage(10, 11, 0, estimated=True)
    labels = {"route": "chat", "backend": "pool", "model": "m", "version": "-", "estimated": "true"}
    assert sample(metrics, "inferlane_tokens_total", **labels, type="output") == 11


def test_a_routing_count_of_prompt_tokens_wins_over_the_estimate():
    clock, metrics = Clock(100.0), ProxyMetrics()
    observer = Observer(metrics, clock)
    ctx = streamed_request(observer, clock)
    ctx.prompt_tokens = 123
    observer.finished(ctx, 499, "client_disconnect", 0.5)
    assert ctx.usage == Usage(123, 11, 0, estimated=True)


def test_failed_requests_count_no_tokens_and_no_inference_latency():
    clock, metrics = Clock(100.0), ProxyMetrics()
    observer = Observer(metrics, clock)
    ctx = streamed_request(observer, clock)
    observer.finished(ctx, 502, "upstream_reset", 0.3)
    assert ctx.usage is None
    assert sample(metrics, "inference_latency_ms_count", model="m", version="-") == 0
    assert sample(metrics, "http_requests_total", service="pool", route="chat", model="m", version="-",
                  code="5xx", status="502") == 1  # fmt: skip
    assert sample(metrics, "inferlane_requests_total", route="chat", backend="pool", status="502",
                  error_kind="upstream_reset") == 1  # fmt: skip
    assert sample(metrics, "inferlane_request_duration_seconds_sum", route="chat", backend="pool") == 0.3


def test_requests_that_never_parsed_are_counted_under_dashes():
    metrics = ProxyMetrics()
    Observer(metrics, Clock(100.0)).finished(None, 503, "overloaded", 0.0)
    assert sample(metrics, "http_requests_total", service="-", route="-", model="-", version="-",
                  code="5xx", status="503") == 1  # fmt: skip
    assert sample(metrics, "inferlane_requests_total", route="-", backend="-", status="503",
                  error_kind="overloaded") == 1  # fmt: skip
