"""The exporter's queue: bounded, counted when full (no network here)."""

from __future__ import annotations

from inferlane.config.observability import TracingConfig
from inferlane.observability.export import OtlpExporter
from inferlane.observability.otlp import OtlpEncoder


def test_a_full_queue_drops_and_counts_instead_of_growing():
    results: list[tuple[str, int]] = []
    exporter = OtlpExporter(
        TracingConfig(enabled=True), OtlpEncoder({}), lambda r, n: results.append((r, n)), max_pending=5
    )
    exporter.add([b"a", b"b", b"c"])
    exporter.add([b"d", b"e", b"f", b"g"])
    assert exporter.pending == [b"a", b"b", b"c", b"d", b"e"]
    assert results == [("dropped", 2)]
    exporter.add([b"h"])
    assert results == [("dropped", 2), ("dropped", 1)]


def test_export_headers_keep_the_protobuf_content_type():
    config = TracingConfig(enabled=True, headers={"Authorization": "Bearer t", "Content-Type": "text/plain"})
    exporter = OtlpExporter(config, OtlpEncoder({}), lambda r, n: None)
    assert exporter.headers == {"Authorization": "Bearer t", "Content-Type": "application/x-protobuf"}
