"""``POST /v1/chat/completions`` and ``/v1/completions``: streaming and not, through the engine."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from inferlane.sim.context import ReplicaContext, read_json
from inferlane.sim.fault_http import fault_of, reset_after_flush, send_body
from inferlane.sim.faults import FaultPlan
from inferlane.sim.generation import GenRequest, parse_generation
from inferlane.sim.output import PIECES
from inferlane.sim.sse import DONE, ChunkEncoder

_BIG_BODY = 256 * 1024  # parse/tokenize bodies above this size in a worker thread


async def handle_generate(ctx: ReplicaContext, request: web.Request, chat: bool) -> web.StreamResponse:
    body = await read_json(request)
    ctx.check_awake()
    lora = ctx.resolve_model(body.get("model"))
    if request.content_length and request.content_length > _BIG_BODY:
        loop = asyncio.get_running_loop()
        gen = await loop.run_in_executor(None, parse_generation, ctx.spec, body, chat, lora)
    else:
        gen = parse_generation(ctx.spec, body, chat, lora)
    fault = fault_of(request)
    rid = ctx.request_id("chatcmpl" if chat else "cmpl")
    if gen.stream:
        return await _stream(ctx, request, gen, rid, fault)
    if fault.ttft:
        await asyncio.sleep(fault.ttft)
    listener = asyncio.Event()
    ctx.runner.submit(gen.seqs, listener)
    try:
        async with asyncio.timeout(ctx.spec.request_timeout):
            while not all(s.finished for s in gen.seqs):
                await listener.wait()
                listener.clear()
    finally:
        ctx.runner.abort([s for s in gen.seqs if not s.finished])
    payload = _full_response(ctx, gen, rid)
    return await send_body(request, orjson.dumps(payload), ctx.orca_header(request))


def _full_response(ctx: ReplicaContext, gen: GenRequest, rid: str) -> dict[str, Any]:
    choices = []
    for index, (plan, seq) in enumerate(zip(gen.plans, gen.seqs, strict=True)):
        text = plan.text(0, seq.generated)
        finish = seq.ended_with or plan.finish_reason
        if gen.chat:
            message: dict[str, Any] = {
                "role": "assistant", "content": text, "refusal": None, "annotations": None, "audio": None,
                "function_call": None, "tool_calls": [], "reasoning_content": None,
            }  # fmt: skip
            choices.append({
                "index": index, "message": message, "logprobs": None, "finish_reason": finish,
                "stop_reason": plan.stop_reason,
            })  # fmt: skip
        else:
            choices.append({
                "index": index, "text": text, "logprobs": None, "finish_reason": finish,
                "stop_reason": plan.stop_reason, "prompt_logprobs": None,
            })  # fmt: skip
    return {
        "id": rid,
        "object": "chat.completion" if gen.chat else "text_completion",
        "created": ctx.created,
        "model": gen.model,
        "choices": choices,
        "usage": gen.usage(ctx.spec.prompt_tokens_details),
        "prompt_logprobs": None,
        "kv_transfer_params": None,
    }


async def _stream(
    ctx: ReplicaContext, request: web.Request, gen: GenRequest, rid: str, fault: FaultPlan
) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Cache-Control": "no-cache", **ctx.orca_header(request)})
    response.content_type = "text/event-stream"
    response.charset = "utf-8"
    await response.prepare(request)
    encoder = ChunkEncoder(gen.chat, rid, ctx.created, gen.model)
    if gen.chat:
        await response.write(b"".join(encoder.role(i) for i in range(len(gen.seqs))))
    if fault.ttft:
        await asyncio.sleep(fault.ttft)
    listener = asyncio.Event()
    ctx.runner.submit(gen.seqs, listener)
    try:
        async with asyncio.timeout(ctx.spec.request_timeout):
            if not await _relay(ctx, request, response, gen, encoder, listener, fault):
                return response
    finally:
        ctx.runner.abort([s for s in gen.seqs if not s.finished])
    tail = encoder.usage(gen.usage(ctx.spec.prompt_tokens_details)) if gen.include_usage else b""
    await response.write(tail + DONE)
    await response.write_eof()
    return response


async def _relay(
    ctx: ReplicaContext,
    request: web.Request,
    response: web.StreamResponse,
    gen: GenRequest,
    encoder: ChunkEncoder,
    listener: asyncio.Event,
    fault: FaultPlan,
) -> bool:
    """Write tokens as the engine produces them; False if a fault cut the stream."""
    sent = [0] * len(gen.seqs)
    total = 0
    pending_fault = fault.mid_stream
    pieces = ctx.piece_json
    while True:
        await listener.wait()
        listener.clear()
        out = []
        for index, seq in enumerate(gen.seqs):
            plan = gen.plans[index]
            while sent[index] < seq.generated:
                at = sent[index]
                last = seq.finished and at == seq.generated - 1
                if at == plan.tokens - 1 and plan.last_piece is not None:
                    piece_json = orjson.dumps(plan.last_piece)
                else:
                    piece_json = pieces[(plan.offset + at) % len(PIECES)]
                usage = gen.usage(ctx.spec.prompt_tokens_details) if gen.continuous_usage else None
                finish = (seq.ended_with or plan.finish_reason) if last else None
                out.append(
                    encoder.token(index, piece_json, finish, plan.stop_reason if last else None, usage)
                )
                sent[index] += 1
                total += 1
                if pending_fault and total >= fault.after_tokens:
                    await response.write(b"".join(out))
                    out.clear()
                    pending_fault = False
                    if fault.reset_mid_stream:
                        await reset_after_flush(request)
                        return False
                    await asyncio.sleep(fault.stall or 0.0)
        if out:
            await response.write(b"".join(out))
        if all(s.finished and sent[i] == s.generated for i, s in enumerate(gen.seqs)):
            return True
