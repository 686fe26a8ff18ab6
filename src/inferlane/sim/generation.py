"""Turning a chat/completions request body into engine sequences and output plans (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inferlane.sim import tokens
from inferlane.sim.engine import Seq
from inferlane.sim.kvcache import block_hashes
from inferlane.sim.output import OutputPlan, natural_length, plan_output, prompt_seed
from inferlane.sim.problems import ApiError, context_length_error
from inferlane.sim.spec import ModelSpec


@dataclass(slots=True)
class GenRequest:
    chat: bool
    model: str
    stream: bool
    include_usage: bool
    continuous_usage: bool
    prompt_counts: list[int]
    plans: list[OutputPlan]
    seqs: list[Seq]
    choice_prompt: list[int] = field(default_factory=list)

    def usage(self, with_details: bool) -> dict[str, Any]:
        prompt = sum(self.prompt_counts)
        completion = sum(s.generated for s in self.seqs)
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "total_tokens": prompt + completion,
            "completion_tokens": completion,
            "prompt_tokens_details": None,
        }
        if with_details:
            n = len(self.seqs) // max(1, len(self.prompt_counts))
            cached = sum(self.seqs[i * n].cached_tokens for i in range(len(self.prompt_counts)))
            usage["prompt_tokens_details"] = {"cached_tokens": cached}
        return usage


def _int_field(body: dict[str, Any], name: str, default: int | None, low: int) -> int | None:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"'{name}' must be an integer, got {value!r}")
    if value < low:
        raise ApiError(400, f"'{name}' must be at least {low}, got {value}")
    return value


def _prompts(body: dict[str, Any], chat: bool) -> list[tokens.TokenSeq]:
    if chat:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
            raise ApiError(400, "'messages' must be a non-empty list of message objects")
        text = tokens.render_chat(messages, bool(body.get("add_generation_prompt", True)))
        return [tokens.from_text(text)]
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        return [tokens.from_text(prompt)]
    if isinstance(prompt, list) and prompt:
        if all(isinstance(p, int) and not isinstance(p, bool) for p in prompt):
            return [tokens.from_ids(prompt)]
        if all(isinstance(p, str) for p in prompt):
            return [tokens.from_text(p) for p in prompt]
        if all(isinstance(p, list) and all(isinstance(t, int) for t in p) for p in prompt):
            return [tokens.from_ids(p) for p in prompt]
    raise ApiError(
        400, "'prompt' must be a string, a list of strings, or token ids (a list or list of lists)"
    )


def _stops(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        return stop
    raise ApiError(400, "'stop' must be a string or a list of strings")


def parse_generation(spec: ModelSpec, body: dict[str, Any], chat: bool, lora: str | None) -> GenRequest:
    """Validate a request like vLLM does and plan every choice's output."""
    config = spec.engine_config()
    prompts = _prompts(body, chat)
    n = _int_field(body, "n", 1, 1) or 1
    if chat:
        max_tokens = _int_field(body, "max_completion_tokens", None, 1)
        if max_tokens is None:
            max_tokens = _int_field(body, "max_tokens", None, 1)
    else:
        max_tokens = _int_field(body, "max_tokens", 16, 1)
    min_tokens = _int_field(body, "min_tokens", 0, 0) or 0
    stops = _stops(body)
    ignore_eos = bool(body.get("ignore_eos", False))
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise ApiError(400, "'stream_options' must be an object")
    request = GenRequest(
        chat=chat,
        model=str(body.get("model") or spec.name),
        stream=bool(body.get("stream", False)),
        include_usage=bool(options.get("include_usage", False)),
        continuous_usage=bool(options.get("continuous_usage_stats", False)),
        prompt_counts=[p.count for p in prompts],
        plans=[],
        seqs=[],
    )
    for index, prompt in enumerate(prompts):
        problem = context_length_error(config.max_model_len, prompt.count, max_tokens)
        if problem is not None:
            raise problem
        limit = max_tokens if max_tokens is not None else config.max_model_len - prompt.count
        hashes = block_hashes(prompt, config.block_size, lora or "") if config.enable_prefix_caching else []
        for choice in range(n):
            seed = prompt_seed(prompt.data, choice)
            natural = natural_length(seed, spec.output.min_tokens, spec.output.max_tokens)
            plan = plan_output(
                seed=seed, natural=natural, max_tokens=limit, ignore_eos=ignore_eos, stop=stops,
                min_tokens=min_tokens,
            )  # fmt: skip
            request.plans.append(plan)
            request.choice_prompt.append(index)
            request.seqs.append(
                Seq(prompt=prompt.count, hashes=hashes, max_new=max(1, plan.tokens),
                    finish_reason=plan.finish_reason, lora=lora)
            )  # fmt: skip
    return request
