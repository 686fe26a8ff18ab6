"""The exporter against a real OTLP/HTTP receiver on loopback: under steady traffic it posts full batches,
not a tiny batch for every few spans that arrive while an export is in flight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from inferlane.config.observability import TracingConfig
from inferlane.observability.export import OtlpExporter
from inferlane.observability.otlp import KIND_INTERNAL, OtlpEncoder


class SlowReceiver:
    """Holds each export until the test releases it, so spans can arrive while one is in flight."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        message = ExportTraceServiceRequest.FromString(await request.read())
        self.batches.append(sum(len(s.spans) for r in message.resource_spans for s in r.scope_spans))
        self.arrived.set()
        await asyncio.wait_for(self.release.wait(), 10)
        return web.Response(content_type="application/x-protobuf")


@pytest.fixture
async def receiver(otlp_endpoint) -> AsyncIterator[tuple[SlowReceiver, str]]:
    rec = SlowReceiver()
    yield rec, await otlp_endpoint(rec.handle)
    rec.release.set()  # before the endpoint stops: no export is left waiting


def spans(encoder: OtlpEncoder, count: int) -> list[bytes]:
    return [
        encoder.span(bytes(range(1, 17)), bytes([i + 1] * 8), None, "s", KIND_INTERNAL, 1, 2, {})
        for i in range(count)
    ]


async def test_spans_arriving_during_an_export_wait_for_a_full_batch(receiver):
    rec, url = receiver
    encoder = OtlpEncoder({"service.name": "t"})
    exported = asyncio.Queue[int]()
    config = TracingConfig(enabled=True, endpoint=url)
    exporter = OtlpExporter(config, encoder, lambda r, n: exported.put_nowait(n), batch=4, interval=3600)
    task = asyncio.create_task(exporter.run())
    try:
        exporter.add(spans(encoder, 1))
        while exporter._wake is None:  # the task has started and waits for a batch
            await asyncio.sleep(0)
        exporter.add(spans(encoder, 3))  # the batch is full: posted at once
        await asyncio.wait_for(rec.arrived.wait(), 10)
        exporter.add(spans(encoder, 1))  # arrives while that export is in flight
        rec.release.set()
        assert await asyncio.wait_for(exported.get(), 10) == 4
        assert len(exporter.pending) == 1  # not posted alone right after: it waits for more
        exporter.add(spans(encoder, 4))  # a full batch again, and one more
        assert await asyncio.wait_for(exported.get(), 10) == 4
        assert len(exporter.pending) == 1  # the rest of a batch is not posted on its own
        exporter.add(spans(encoder, 1))
        exporter.close()  # shutdown sends what is left
        assert await asyncio.wait_for(exported.get(), 10) == 2
        await asyncio.wait_for(task, 10)
    finally:
        task.cancel()
    assert rec.batches == [4, 4, 2]
