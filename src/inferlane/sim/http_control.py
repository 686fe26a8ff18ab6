"""vLLM's control endpoints (health, models, version, LoRA, sleep mode, prefix cache) and the simulator's
own fault admin API (``/sim/faults``)."""

from __future__ import annotations

import asyncio

import orjson
from aiohttp import web
from pydantic import ValidationError

from inferlane.sim.context import SLEEP_STATES, ReplicaContext, json_response, read_json
from inferlane.sim.problems import ApiError


async def handle_health(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    if ctx.phase != "ready" or ctx.faults.settings.engine_dead:
        return web.Response(status=503)
    return web.Response(status=200)


async def handle_version(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    return json_response({"version": ctx.spec.vllm_version})


def _card(ctx: ReplicaContext, model_id: str, root: str, parent: str | None) -> dict[str, object]:
    return {
        "id": model_id, "object": "model", "created": ctx.created, "owned_by": "vllm", "root": root,
        "parent": parent, "max_model_len": ctx.max_model_len,
        "permission": [{
            "id": f"modelperm-{ctx.name}-{model_id}", "object": "model_permission", "created": ctx.created,
            "allow_create_engine": False, "allow_sampling": True, "allow_logprobs": True,
            "allow_search_indices": False, "allow_view": True, "allow_fine_tuning": False,
            "organization": "*", "group": None, "is_blocking": False,
        }],
    }  # fmt: skip


async def handle_models(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    data = [_card(ctx, ctx.model, ctx.model, None)]
    data += [_card(ctx, name, path or name, ctx.model) for name, path in ctx.loras.items()]
    return json_response({"object": "list", "data": data})


async def handle_load_lora(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    name, path = body.get("lora_name"), body.get("lora_path")
    if not isinstance(name, str) or not name or not isinstance(path, str) or not path:
        raise ApiError(400, "Both 'lora_name' and 'lora_path' must be provided.", "InvalidUserInput")
    if name in ctx.loras:
        raise ApiError(400, f"The lora adapter '{name}' has already been loaded.", "InvalidUserInput")
    if len(ctx.loras) >= ctx.spec.max_cpu_loras:
        raise ApiError(400, f"Cannot load more than {ctx.spec.max_cpu_loras} LoRA adapters (maxCpuLoras).")
    await asyncio.sleep(ctx.spec.lora_load_latency * ctx.time_scale)
    ctx.loras[name] = path
    return web.Response(text=f"Success: LoRA adapter '{name}' added successfully.")


async def handle_unload_lora(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    name = body.get("lora_name")
    if not isinstance(name, str) or name not in ctx.loras:
        raise ApiError(404, f"The lora adapter '{name}' cannot be found.", "NotFoundError")
    del ctx.loras[name]
    return web.Response(text=f"Success: LoRA adapter '{name}' removed successfully.")


async def handle_sleep(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    level = request.query.get("level", "1")
    if level not in ("1", "2"):
        raise ApiError(400, f"sleep level must be 1 or 2, got {level!r}")
    ctx.sleep_level = int(level)
    ctx.engine.paused = True
    ctx.engine.reset_prefix_cache()
    return web.Response(status=200)


async def handle_wake_up(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    ctx.sleep_level = 0
    ctx.engine.paused = False
    ctx.runner.poke()
    return web.Response(status=200)


async def handle_is_sleeping(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    return json_response({"is_sleeping": bool(ctx.sleep_level)})


async def handle_reset_prefix_cache(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    if not ctx.engine.reset_prefix_cache():
        raise ApiError(500, "Failed to reset prefix cache: blocks are still in use by running requests.")
    return web.Response(status=200)


def sleep_state(ctx: ReplicaContext) -> str:
    return SLEEP_STATES[ctx.sleep_level]


async def handle_faults(ctx: ReplicaContext, request: web.Request) -> web.StreamResponse:
    """``GET`` shows, ``POST`` merges (partial JSON, camelCase), ``DELETE`` clears the fault settings."""
    if request.method == "POST":
        body = await read_json(request)
        try:
            ctx.faults.merge(body)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise ApiError(400, f"invalid fault settings: {problems}") from None
    elif request.method == "DELETE":
        ctx.faults.clear()
    body_bytes = orjson.dumps(ctx.faults.settings.model_dump(by_alias=True))
    return web.Response(body=body_bytes, content_type="application/json")
