"""Trace export over OTLP/HTTP to a local receiver that decodes the protobuf ExportTraceServiceRequest;
W3C traceparent continued from the caller and propagated to the upstream."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from support.proxy import proxy_config, start_proxy

TID = "4bf92f3577b34da6a3ce929d0e0e4736"
SID = "00f067aa0ba902b7"


class Receiver:
    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.resources: list[dict[str, Any]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        assert request.content_type == "application/x-protobuf"
        message = ExportTraceServiceRequest.FromString(await request.read())
        for resource_spans in message.resource_spans:
            self.resources.append(attributes(resource_spans.resource.attributes))
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(scope_spans.spans)
        body = ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=body, content_type="application/x-protobuf")


def attributes(items: Any) -> dict[str, Any]:
    out = {}
    for kv in items:
        value = kv.value
        out[kv.key] = getattr(value, value.WhichOneof("value"))
    return out


@pytest.fixture
async def receiver(otlp_endpoint) -> Receiver:
    rec = Receiver()
    rec.url = await otlp_endpoint(rec.handle)
    return rec


def tracing(receiver: Receiver, ratio: float = 1.0) -> dict[str, Any]:
    return {"enabled": True, "endpoint": receiver.url, "sampleRatio": ratio, "serviceName": "sidecar-a"}


async def test_spans_continue_the_callers_trace_and_nest_the_upstream(receiver, upstreams, http):
    up = await upstreams()
    proxy = await start_proxy(proxy_config({"llm": [up.url]}, tracing=tracing(receiver)))
    try:
        headers = {"traceparent": f"00-{TID}-{SID}-01", "x-test": "ok"}
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        async with http.post(proxy.url + "/v1/chat/completions", json=body, headers=headers) as resp:
            assert resp.status == 200
    finally:
        await proxy.app.shutdown()  # flushes the exporter
    sent = up.requests[-1].headers["traceparent"]
    version, trace_id, upstream_span, flags = sent.split("-")
    assert (version, trace_id, flags) == ("00", TID, "01") and upstream_span != SID

    spans = {span.name: span for span in receiver.spans}
    root = spans["chat m"]
    assert root.trace_id.hex() == TID and root.parent_span_id.hex() == SID
    assert root.kind == Span.SPAN_KIND_SERVER
    attrs = attributes(root.attributes)
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "m"
    assert attrs["http.response.status_code"] == 200
    assert receiver.resources[0]["service.name"] == "sidecar-a"
    client = [s for s in receiver.spans if s.kind == Span.SPAN_KIND_CLIENT]
    assert [s.span_id.hex() for s in client] == [upstream_span]
    assert client[0].parent_span_id == root.span_id
    assert attributes(client[0].attributes)["server.address"] == "127.0.0.1"
    assert spans["route"].parent_span_id == root.span_id
    assert root.start_time_unix_nano <= client[0].start_time_unix_nano <= client[0].end_time_unix_nano
    assert client[0].end_time_unix_nano <= root.end_time_unix_nano


async def test_genai_usage_and_ttft_on_a_streamed_generation(receiver, sim, http):
    fleet = await sim()
    config = proxy_config({"m": [fleet.replicas[0].url]}, tracing=tracing(receiver))
    proxy = await start_proxy(config)
    try:
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
        body |= {"stream": True, "ignore_eos": True}
        async with http.post(proxy.url + "/v1/chat/completions", json=body) as resp:
            await resp.read()
            request_id = resp.headers["x-request-id"]
    finally:
        await proxy.app.shutdown()
    (root,) = [s for s in receiver.spans if s.kind == Span.SPAN_KIND_SERVER]
    attrs = attributes(root.attributes)
    assert attrs["inferlane.request_id"] == request_id  # joins the trace with logs and the client's view
    assert attrs["gen_ai.usage.output_tokens"] == 4 and attrs["gen_ai.usage.input_tokens"] > 0
    assert attrs["gen_ai.response.model"] == "m"  # as the simulator's stream names it
    assert attrs["gen_ai.request.max_tokens"] == 4
    assert (
        0
        < attrs["gen_ai.server.time_to_first_token"]
        < (root.end_time_unix_nano - root.start_time_unix_nano) / 1e9
    )
    assert not root.parent_span_id


async def test_unsampled_requests_export_nothing_and_pass_traceparent_through(receiver, upstreams, http):
    up = await upstreams()
    proxy = await start_proxy(proxy_config({"llm": [up.url]}, tracing=tracing(receiver, ratio=0.0)))
    try:
        async with http.post(proxy.url + "/v1/chat/completions", json={"model": "m"}) as resp:
            assert resp.status == 200
        incoming = f"00-{TID}-{SID}-00"
        async with http.post(
            proxy.url + "/v1/chat/completions", json={"model": "m"}, headers={"traceparent": incoming}
        ):
            pass
    finally:
        await proxy.app.shutdown()
    assert "traceparent" not in up.requests[0].headers
    assert up.requests[1].headers["traceparent"] == incoming
    assert receiver.spans == []


async def test_tracing_off_creates_no_trace_objects(upstreams, proxies, http):
    up = await upstreams()
    proxy = await proxies(proxy_config({"llm": [up.url]}))
    assert proxy.app.observer.tracer is None
    incoming = f"00-{TID}-{SID}-01"
    async with http.post(
        proxy.url + "/v1/chat/completions", json={"model": "m"}, headers={"traceparent": incoming}
    ):
        pass
    assert up.requests[0].headers["traceparent"] == incoming


async def test_a_missing_collector_costs_requests_nothing_and_is_counted(upstreams, http):
    up = await upstreams()
    dead = {
        "enabled": True,
        "endpoint": "http://127.0.0.1:9/v1/traces",
        "exportTimeout": "2s",
        "sampleRatio": 1,
    }
    proxy = await start_proxy(proxy_config({"llm": [up.url]}, tracing=dead))
    try:
        for _ in range(3):
            async with http.post(proxy.url + "/v1/chat/completions", json={"model": "m"}) as resp:
                assert resp.status == 200
    finally:
        await proxy.app.shutdown()
    registry = proxy.app.metrics.registry
    assert registry.get_sample_value("inferlane_trace_spans_total", {"result": "failed"}) == 3 * 3
    assert registry.get_sample_value("inferlane_trace_spans_total", {"result": "exported"}) is None


async def test_each_retry_is_its_own_client_span(receiver, upstreams, http):
    up = await upstreams(script=["status=503"])
    config = proxy_config({"llm": [up.url]}, tracing=tracing(receiver))
    proxy = await start_proxy(config)
    try:
        async with http.post(proxy.url + "/v1/chat/completions", json={"model": "m"}) as resp:
            assert resp.status == 200
    finally:
        await proxy.app.shutdown()
    attempts = sorted(
        (s for s in receiver.spans if s.kind == Span.SPAN_KIND_CLIENT), key=lambda s: s.start_time_unix_nano
    )
    statuses = [attributes(s.attributes)["http.response.status_code"] for s in attempts]
    assert statuses == [503, 200]
    assert [attributes(s.attributes)["inferlane.attempt"] for s in attempts] == [1, 2]
    assert attempts[0].status.code == 2  # STATUS_CODE_ERROR
    sent = [seen.headers["traceparent"].split("-")[2] for seen in up.requests]
    assert sent == [s.span_id.hex() for s in attempts]


async def test_a_merged_batch_is_a_span_in_each_callers_trace(receiver, sim_fleet, http):
    fleet = await sim_fleet(model="emb", kind="vllm")
    config = proxy_config({"model": [fleet.replicas[0].url]}, tracing=tracing(receiver))
    config["batching"] = {"enabled": True, "maxBatchSize": 3, "maxWaitTimeMs": 5000, "strategy": "fixed"}
    config["routing"] = {"endpoints": [{"path": "/v1/embeddings", "backend": "model", "batchEnabled": True}]}
    proxy = await start_proxy(config)
    try:

        async def embed(text: str) -> None:
            async with http.post(proxy.url + "/v1/embeddings", json={"model": "emb", "input": text}) as resp:
                assert resp.status == 200

        await asyncio.gather(*(embed(f"text {i}") for i in range(3)))  # one batch of three
    finally:
        await proxy.app.shutdown()
    roots = {s.trace_id: s for s in receiver.spans if s.kind == Span.SPAN_KIND_SERVER}
    batches = [s for s in receiver.spans if s.name == "batch"]
    assert len(roots) == 3 and len(batches) == 3
    for span in batches:
        root = roots[span.trace_id]
        assert span.parent_span_id == root.span_id
        assert root.start_time_unix_nano <= span.start_time_unix_nano <= span.end_time_unix_nano
        assert span.end_time_unix_nano <= root.end_time_unix_nano
        attrs = attributes(span.attributes)
        assert (attrs["inferlane.batch.requests"], attrs["inferlane.batch.size"]) == (3, 3)
        assert attrs["http.response.status_code"] == 200
        assert attrs["server.address"] == fleet.replicas[0].url.removeprefix("http://")
    queued = [s for s in receiver.spans if s.name == "queue"]
    assert len(queued) >= 2  # the first two callers waited in the queue for the third
