"""Scrape-time gauges of picking and load signals: each endpoint's last observed signals and their age, the
proxy's in-flight prompt tokens, sleeping endpoints, pool saturation and the prefix index's memory. Read
from live state when Prometheus scrapes, so they cost the request path nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from inferlane.upstream.backend import Backend


class SignalsCollector(Collector):
    def __init__(self, backends: Callable[[], Iterable[Backend]]) -> None:
        self.backends = backends

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["backend", "endpoint"]
        kv = GaugeMetricFamily(
            "inferlane_endpoint_kv_cache_usage", "Last observed KV-cache usage (0-1).", labels=labels
        )
        queue = GaugeMetricFamily(
            "inferlane_endpoint_queue_depth", "Last observed model-server waiting queue.", labels=labels
        )
        age = GaugeMetricFamily(
            "inferlane_endpoint_signal_age_seconds",
            "Seconds since the endpoint's load signals were last observed (ORCA header or scrape).",
            labels=labels,
        )
        tokens = GaugeMetricFamily(
            "inferlane_endpoint_in_flight_tokens",
            "Uncached prompt tokens the proxy has in flight to the endpoint.",
            labels=labels,
        )
        sleeping = GaugeMetricFamily(
            "inferlane_endpoint_sleeping", "1 while the endpoint reports vLLM sleep mode.", labels=labels
        )
        saturated = GaugeMetricFamily(
            "inferlane_pool_saturated",
            "1 when every endpoint of the backend that could take a request is over a saturation limit.",
            labels=["backend"],
        )
        index = GaugeMetricFamily(
            "inferlane_prefix_index_bytes",
            "Estimated memory of the backend's prefix index (bounded by picking.prefixIndexMaxBytes).",
            labels=["backend"],
        )
        for backend in self.backends():
            pool = backend.pool
            now = pool.clock()
            for state in pool.states.values():
                key = [backend.name, state.endpoint.authority]
                s = state.signals
                if s.kv_usage is not None:
                    kv.add_metric(key, s.kv_usage)
                if s.queue_depth is not None:
                    queue.add_metric(key, s.queue_depth)
                signal_age = s.age(now)
                if signal_age is not None:
                    age.add_metric(key, signal_age)
                tokens.add_metric(key, state.in_flight_tokens)
                sleeping.add_metric(key, 1 if s.sleeping else 0)
            saturated.add_metric([backend.name], 1 if pool.saturation().saturated else 0)
            index.add_metric([backend.name], pool.picker.index.approx_bytes)
        yield from (kv, queue, age, tokens, sleeping, saturated, index)
