"""The HTTP surface of one replica, by kind: which paths exist and which handler answers each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from inferlane.sim import http_classic as classic
from inferlane.sim import http_control as control
from inferlane.sim import http_pooling as pooling
from inferlane.sim.context import ReplicaContext, json_response
from inferlane.sim.fault_http import make_middleware
from inferlane.sim.http_generate import handle_generate
from inferlane.sim.metrics import CONTENT_TYPE, build_registry, render

CtxHandler = Callable[[ReplicaContext, web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = 256 * 1024 * 1024


def _bind(ctx: ReplicaContext, fn: CtxHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await fn(ctx, request)

    return handler


def build_app(ctx: ReplicaContext) -> web.Application:
    app = web.Application(middlewares=[make_middleware(ctx)], client_max_size=MAX_BODY)
    registry = build_registry(ctx)

    async def metrics(request: web.Request) -> web.StreamResponse:
        return web.Response(body=render(registry), headers={"Content-Type": CONTENT_TYPE})

    async def chat(request: web.Request) -> web.StreamResponse:
        return await handle_generate(ctx, request, chat=True)

    async def completions(request: web.Request) -> web.StreamResponse:
        return await handle_generate(ctx, request, chat=False)

    def add(method: str, path: str, fn: CtxHandler) -> None:
        app.router.add_route(method, path, _bind(ctx, fn))

    app.router.add_get("/metrics", metrics)
    add("GET", "/health", control.handle_health)
    for method in ("GET", "POST", "DELETE"):
        add(method, "/sim/faults", control.handle_faults)
    if ctx.kind == "vllm":
        app.router.add_post("/v1/chat/completions", chat)
        app.router.add_post("/v1/completions", completions)
        _vllm_routes(add)
    elif ctx.kind == "tei":
        add("POST", "/embed", classic.tei_embed)
        add("POST", "/rerank", classic.tei_rerank)
        add("POST", "/v1/embeddings", pooling.handle_embeddings)
        add("GET", "/info", classic.tei_info)
    elif ctx.kind == "tfserving":
        app.router.add_get("/monitoring/prometheus/metrics", metrics)
        add("GET", "/v1/models/{tail:.+}", classic.tf_get)
        add("POST", "/v1/models/{tail:.+}", classic.tf_predict)
    else:
        _kserve_routes(ctx, app, add)
    return app


def _vllm_routes(add: Callable[[str, str, CtxHandler], None]) -> None:
    for path in ("/v1/embeddings",):
        add("POST", path, pooling.handle_embeddings)
    for path in ("/rerank", "/v1/rerank", "/v2/rerank"):
        add("POST", path, pooling.handle_rerank)
    for path in ("/score", "/v1/score"):
        add("POST", path, pooling.handle_score)
    add("POST", "/tokenize", pooling.handle_tokenize)
    add("POST", "/detokenize", pooling.handle_detokenize)
    add("GET", "/v1/models", control.handle_models)
    add("GET", "/version", control.handle_version)
    add("POST", "/v1/load_lora_adapter", control.handle_load_lora)
    add("POST", "/v1/unload_lora_adapter", control.handle_unload_lora)
    add("POST", "/sleep", control.handle_sleep)
    add("POST", "/wake_up", control.handle_wake_up)
    add("GET", "/is_sleeping", control.handle_is_sleeping)
    add("POST", "/reset_prefix_cache", control.handle_reset_prefix_cache)


def _kserve_routes(
    ctx: ReplicaContext, app: web.Application, add: Callable[[str, str, CtxHandler], None]
) -> None:
    async def live(request: web.Request) -> web.StreamResponse:
        return json_response({"live": True})

    async def ready(request: web.Request) -> web.StreamResponse:
        return json_response({"ready": ctx.phase == "ready"}, status=200 if ctx.phase == "ready" else 503)

    async def server(request: web.Request) -> web.StreamResponse:
        return json_response({"name": "inferlane-sim", "version": "2", "extensions": []})

    app.router.add_get("/v2/health/live", live)
    app.router.add_get("/v2/health/ready", ready)
    app.router.add_get("/v2", server)
    for base in ("/v2/models/{name}", "/v2/models/{name}/versions/{version}"):
        add("GET", base, classic.v2_metadata)
        add("GET", base + "/ready", classic.v2_model_ready)
        add("POST", base + "/infer", classic.v2_infer)
