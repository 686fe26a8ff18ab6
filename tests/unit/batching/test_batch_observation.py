"""A merged batch's upstream call, as each caller's observation sees it: upstream time, and a span when
traced (fake clock, no sockets)."""

from __future__ import annotations

import random

from inferlane.model import Endpoint, ProxyRequest
from inferlane.observability.metrics import ProxyMetrics
from inferlane.observability.observer import Observer
from inferlane.observability.tracing import RequestTrace
from inferlane.pipeline.context import RequestContext
from inferlane.stages.batching.dispatch import _observe_batch
from inferlane.stages.batching.queue import Item
from support.clock import Clock


def caller(observer: Observer, traced: bool) -> tuple[RequestContext, Item]:
    request = ProxyRequest("POST", "/v1/embeddings", "/v1/embeddings", {}, b"{}", "", 0.0)
    ctx = RequestContext(request, "r", observer.clock(), observer.clock() + 60, {"input": "x"})
    obs = observer.begin(ctx)
    if traced:
        obs.trace = RequestTrace(b"\x01" * 16, None, random.Random(1))
    return ctx, Item(ctx, {"input": "x"}, 2, 1, True, 0.0, 60.0, None)  # type: ignore[arg-type]


def test_the_merged_call_is_upstream_time_for_every_caller_and_a_span_for_traced_ones():
    clock = Clock(100.0)
    observer = Observer(ProxyMetrics(), clock)
    (plain, plain_item), (traced, traced_item) = caller(observer, False), caller(observer, True)
    batch = RequestContext(plain.request, "b", clock.now, clock.now + 60, {})
    batch.endpoint = Endpoint("pool", "http://10.0.0.7:8000")
    observed = [plain.observation, traced.observation]
    clock.now += 0.25  # the merged call takes 250 ms
    _observe_batch(observed, 100.0, [plain_item, traced_item], batch, 200, "")  # type: ignore[arg-type]

    assert plain.observation.upstream_s == traced.observation.upstream_s == 0.25  # not proxy overhead
    assert plain.observation.trace is None
    ((name, start, end, attributes),) = traced.observation.trace.extra
    assert (name, start, end) == ("batch", 100.0, 100.25)
    assert attributes == {
        "inferlane.batch.requests": 2,
        "inferlane.batch.size": 4,
        "http.response.status_code": 200,
        "server.address": "10.0.0.7:8000",
    }
