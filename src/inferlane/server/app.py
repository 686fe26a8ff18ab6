"""The composition root: builds metrics, stages, backends and pipeline from config, runs the listeners,
reloads atomically, and drains on shutdown. Nothing else wires objects together."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from inferlane.config.load import load_config
from inferlane.config.problems import ConfigError, format_report
from inferlane.config.schema import ProxyConfig
from inferlane.observability.access_log import AccessLog
from inferlane.observability.metrics import ProxyMetrics
from inferlane.observability.observer import Observer
from inferlane.pipeline.build import build_backends, build_pipeline
from inferlane.pipeline.chain import Pipeline
from inferlane.pipeline.holder import PipelineHolder
from inferlane.pipeline.registry import StageRegistry
from inferlane.registry.build import known_versions
from inferlane.rollout.controller import RolloutController
from inferlane.server.admin import AdminApi
from inferlane.server.admin_rollouts import RolloutAdmin
from inferlane.server.edge import Edge
from inferlane.server.listeners import Listeners
from inferlane.server.probes import Probes
from inferlane.server.status import StatusFeed
from inferlane.server.status_sources import batching_from_metrics
from inferlane.stages.batching.stage import batching_state
from inferlane.stages.builtin import register_builtin
from inferlane.stages.split.weights import WeightOverrides

log = logging.getLogger("inferlane")


class App:
    def __init__(
        self,
        config: ProxyConfig,
        *,
        config_path: str | Path | None = None,
        access_log: AccessLog | None = None,
        seed: int | None = None,
        registry: StageRegistry | None = None,
    ) -> None:
        self.config = config
        self.config_path = Path(config_path) if config_path is not None else None
        self.metrics = ProxyMetrics()
        self.registry = registry or StageRegistry()
        if registry is None:
            register_builtin(self.registry)
        self.rng = random.Random(seed)
        #: live weight changes (admin API, rollouts); kept across reloads
        self.overrides = WeightOverrides()
        self.clock = time.monotonic
        #: progressive rollouts: state kept across reloads, weights written to ``overrides``
        self.rollouts = RolloutController(self.overrides, self.metrics, self.clock)
        self.access_log = access_log if config.logging.access_log else None
        # --- request observation (metrics recorder, tracing, load times) ---
        self.observer = Observer(self.metrics, self.clock)
        if self.access_log is not None:
            self.access_log.debug_bodies = config.logging.debug_bodies
        self.probes = Probes(self._ready)
        self.holder: PipelineHolder | None = None
        self.listeners: Listeners | None = None
        self.status: StatusFeed | None = None
        self.generation = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reload_lock = asyncio.Lock()

    # --- building ----------------------------------------------------------------------------------

    def _build(self, config: ProxyConfig, previous: Pipeline | None) -> Pipeline:
        backends = build_backends(
            config, previous.backends if previous else {}, self.clock, self.rng, self.metrics
        )
        self.generation += 1
        pipeline = build_pipeline(
            config,
            self.registry,
            backends,
            self.metrics,
            self.rng,
            self.generation,
            self.overrides,
            self.spawn,
        )
        for backend in backends.values():
            backend.start()
        return pipeline

    def _ready(self) -> bool:
        return self.holder is not None and self.holder.current.ready

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start a background task owned by the app: kept until done, cancelled at shutdown."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        self._start_observability()
        pipeline = self._build(self.config, None)
        self.rollouts.configure(self.config.rollouts)
        self.holder = PipelineHolder(pipeline)
        self.metrics.watch_backends(lambda: self.holder.current.backends.values() if self.holder else ())
        self.metrics.config_reload_ok.set(1)
        edge = Edge(self.holder, self.config.server, self.probes, self.metrics, self.access_log, self.clock)
        edge.finished_hooks.insert(0, self.observer.finished)
        edge.finished_hooks.append(self.rollouts.observe)
        rollout_admin = RolloutAdmin(
            self.rollouts, self.overrides, lambda model: known_versions(self.config, model)
        )
        admin = AdminApi(
            self.probes,
            self.metrics,
            lambda: self.config.admin.token,
            self.state,
            self.reload,
            mounts=[rollout_admin.mount],
        )
        admin_app = admin.app()
        # status page (``/``) and ``/admin/status``, fed by every finished request
        self.status = StatusFeed(
            self.state,
            lambda: self.config,
            self.overrides,
            time.time,
            batching=lambda: batching_from_metrics(self.metrics.registry),
        )
        edge.finished_hooks.append(self.status.record)
        self.status.mount(admin_app)
        self.listeners = Listeners(self.config.server, edge, admin_app)
        await self.listeners.start()
        self.spawn(self.rollouts.run(), "rollouts")
        if self.config_path is not None:
            self.spawn(self._watch_config(), "config-watch")
        log.info(
            "inferlane started",
            extra={
                "port": self.listeners.port,
                "admin_port": self.listeners.admin_port,
                **pipeline.describe(),
            },
        )

    async def shutdown(self) -> None:
        """Drain: not ready at once, keep accepting for ``drainDelay``, then finish in-flight work up to
        ``drainTimeout`` and stop."""
        server = self.config.server
        self.probes.draining = True
        log.info(
            "draining", extra={"drain_delay_s": server.drain_delay, "drain_timeout_s": server.drain_timeout}
        )
        await asyncio.sleep(server.drain_delay)
        if self.listeners is not None:
            await self.listeners.stop(server.drain_timeout)
        if self.observer.tracer is not None:  # send the last spans before the export task is cancelled
            await self.observer.tracer.aclose()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.holder is not None:
            for backend in self.holder.current.backends.values():
                await backend.aclose()
        log.info("stopped")

    # --- reload ------------------------------------------------------------------------------------

    async def reload(self, config: ProxyConfig | None = None) -> bool:
        """Validate, build and swap a new pipeline; on any error keep the running one."""
        async with self._reload_lock:
            assert self.holder is not None
            try:
                if config is None:
                    if self.config_path is None:
                        raise ValueError("no config file to reload from")
                    config = load_config(self.config_path)
                pipeline = self._build(config, self.holder.current)
            except ConfigError as error:
                return self._reload_failed(format_report(error))
            except (ValueError, OSError) as error:
                return self._reload_failed(str(error))
            self._apply_unreloadable(config)
            old = self.holder.swap(pipeline)
            self.config = config
            self.rollouts.configure(config.rollouts)
            self.spawn(self.holder.retire(old, config.server.drain_timeout), f"retire-{old.generation}")
            self.metrics.config_reloads.labels("success").inc()
            self.metrics.config_reload_ok.set(1)
            log.info("config reloaded", extra={"generation": pipeline.generation})
            return True

    def _start_observability(self) -> None:
        config = self.config
        if config.tracing.enabled:
            from inferlane.observability.tracing import Tracer  # imported only when tracing is on

            spans = self.metrics.trace_spans
            self.observer.tracer = Tracer(config.tracing, lambda result, n: spans.labels(result).inc(n))
            self.observer.tracer.start(self.spawn)
            log.info(
                "tracing on",
                extra={"endpoint": config.tracing.endpoint, "ratio": config.tracing.sample_ratio},
            )
        if config.logging.debug_bodies and self.access_log is not None:
            log.warning(
                "logging.debugBodies is on: truncated request and response bodies go to the access log"
            )

    def _reload_failed(self, report: str) -> bool:
        self.metrics.config_reloads.labels("failure").inc()
        self.metrics.config_reload_ok.set(0)
        log.error("config reload rejected; keeping the running config", extra={"problems": report})
        return False

    def _apply_unreloadable(self, config: ProxyConfig) -> None:
        old, new = self.config.server, config.server
        if (old.host, old.port, old.admin_host, old.admin_port) != (
            new.host,
            new.port,
            new.admin_host,
            new.admin_port,
        ):
            log.warning("listen addresses changed in config; they take effect on restart")
        if (self.config.tracing, self.config.logging) != (config.tracing, config.logging):
            log.warning("tracing and logging settings changed in config; they take effect on restart")
        if self.listeners is not None:
            self.listeners.edge.config = new

    async def _watch_config(self) -> None:
        from inferlane.config.watch import ConfigFileWatcher

        assert self.config_path is not None
        watcher = ConfigFileWatcher(self.config_path)
        while True:
            await asyncio.sleep(1.0)
            if watcher.poll():
                await self.reload()

    def state(self) -> dict[str, Any]:
        assert self.holder is not None
        pipeline = self.holder.current
        now = self.clock()
        backends = {}
        for name, backend in pipeline.backends.items():
            pool = backend.pool
            backends[name] = [
                {
                    "endpoint": s.endpoint.authority,
                    "healthy": s.healthy,
                    "in_flight": s.in_flight,
                    "requests": s.requests,
                    "ejected": pool.outliers.is_ejected(s.endpoint.id, now),
                    "breaker": s.breaker.state(now).value if s.breaker else "disabled",
                    # --- load signals (kv_usage 0..1, queue = waiting requests; None = unknown) ---
                    "kv_usage": s.signals.kv_usage,
                    "queue": s.signals.queue_depth,
                    "signal_age_s": s.signals.age(now),
                    "sleeping": s.signals.sleeping,
                    "in_flight_tokens": s.in_flight_tokens,
                }
                for s in pool.states.values()
            ]
        return {
            "generation": pipeline.generation,
            "ready": self.probes.ready,
            "draining": self.probes.draining,
            "stages": pipeline.describe(),
            "backends": backends,
            "rollouts": self.rollouts.describe_all(measurements=False) or None,
            "batching": batching_state(pipeline.interceptors),
        }
