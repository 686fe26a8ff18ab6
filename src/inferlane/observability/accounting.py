"""The ``metrics`` interceptor (order 100, outermost): token accounting and request observation.

For a streamed chat/completions request to an OpenAI-compatible engine it asks the upstream for usage
(``stream_options.include_usage``) when the client did not, and the relay drops that extra usage-only event
so the client sees exactly what it asked for. Non-streamed answers have only their ``usage`` object read;
an answer without one is estimated (chars / 4) and marked estimated.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from inferlane.model import ProxyResponse
from inferlane.observability.access_log import DEBUG_BODY_LIMIT
from inferlane.observability.observation import Observation, ObservedStream, StreamWatch
from inferlane.observability.observer import Observer
from inferlane.observability.sse_usage import SseUsageTap
from inferlane.observability.usage import (
    GENERATION_SUFFIXES,
    Usage,
    estimate_output_tokens,
    estimate_prompt_tokens,
    find_model,
    find_usage,
)
from inferlane.pipeline.context import RequestContext
from inferlane.pipeline.contract import Handler
from inferlane.pipeline.registry import BuildContext
from inferlane.upstream.stream import UpstreamStream

#: engines that accept ``stream_options.include_usage`` on their OpenAI-compatible API
USAGE_ENGINES = frozenset({"vllm", "sglang", "openai", "generic"})
_INJECTED = b'{"stream_options":{"include_usage":true},'


class AccountingStage:
    name = "metrics"

    def __init__(
        self,
        observer: Observer,
        stream_usage: bool,
        engines: Mapping[str, str],
        route_models: Mapping[str, str],
        debug_bodies: bool = False,
    ) -> None:
        self.debug_bodies = debug_bodies
        self.observer = observer
        self.stream_usage = stream_usage
        self.engines = engines
        self.route_models = route_models

    async def intercept(self, ctx: RequestContext, call_next: Handler) -> ProxyResponse:
        obs = self.observer.begin(ctx)
        if not ctx.model:  # the label of a request whose body names no model
            obs.model_label = self.route_models.get(ctx.route)
        generation = ctx.json is not None and (
            ctx.request.path.endswith(GENERATION_SUFFIXES)
            # what the engine sees, when a route rewrote the path
            or (
                ctx.upstream_path != ctx.request.target
                and ctx.upstream_path.partition("?")[0].endswith(GENERATION_SUFFIXES)
            )
        )
        if generation:
            obs.generation = True
            if ctx.stream and self.stream_usage and self.engines.get(ctx.backend or "") in USAGE_ENGINES:
                obs.usage_requested = request_usage(ctx)
        response = await call_next(ctx)
        if response.stream is not None:
            self._watch(obs, ctx, response)
        elif 200 <= response.status < 300 and ctx.json is not None:
            if obs.trace is not None:
                obs.response_model = find_model(response.body)
            if ctx.usage is None:
                usage = find_usage(response.body)
                ctx.usage = estimate(ctx, response.body) if usage is None and generation else usage
        if self.debug_bodies and response.stream is None:
            ctx.extra["response_body"] = response.body[:DEBUG_BODY_LIMIT]
        return response

    @staticmethod
    def _watch(obs: Observation, ctx: RequestContext, response: ProxyResponse) -> None:
        """Watch the relayed stream: inline in an ``UpstreamStream``, else through a wrapper."""
        assert response.stream is not None
        tap = SseUsageTap(obs.usage_requested, obs.observer.clock) if response.is_event_stream else None
        watch = StreamWatch(obs, ctx, tap)
        stream = response.stream
        if isinstance(stream, UpstreamStream) and stream.watch is None:
            stream.watch = watch  # no extra coroutine per chunk
        else:
            response.stream = ObservedStream(stream, watch)


def estimate(ctx: RequestContext, body: bytes) -> Usage:
    """The usage of a whole generation answer that reported none, marked estimated."""
    prompt = ctx.prompt_tokens if ctx.prompt_tokens is not None else estimate_prompt_tokens(ctx.json)
    return Usage(prompt, estimate_output_tokens(body), 0, estimated=True)


def request_usage(ctx: RequestContext) -> bool:
    """Ask for ``include_usage`` unless the client did; True when the proxy added it.

    Without ``stream_options`` in the body the key is spliced in front of the original bytes (no
    re-encoding); otherwise the parsed body is re-encoded once.
    """
    json = ctx.json
    assert json is not None
    options = json.get("stream_options")
    if options is None:
        body = ctx.body
        start = body.find(b"{")
        if start < 0 or b'"stream_options"' in body:
            return False
        json["stream_options"] = {"include_usage": True}
        ctx.body = body[:start] + _INJECTED + body[start + 1 :]
        return True
    if not isinstance(options, dict) or options.get("include_usage"):
        return False
    json["stream_options"] = {**options, "include_usage": True}
    ctx.body = orjson.dumps(json)
    return True


def accounting_stage(build: BuildContext) -> AccountingStage | None:
    """Factory (stages/builtin.py): present whenever the App has an observer."""
    observer = build.metrics.observer
    if observer is None:
        return None
    config = build.config
    observer.configure(config)
    engines = {backend.name: backend.engine for backend in config.all_backends()}
    route_models = {route.display_name: route.model for route in config.routing.endpoints if route.model}
    return AccountingStage(
        observer, config.metrics.stream_usage, engines, route_models, config.logging.debug_bodies
    )
