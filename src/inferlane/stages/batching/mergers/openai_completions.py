"""OpenAI ``/v1/completions``: callers' prompts concatenated into one prompt list, ``choices`` split back.

Merges only non-streaming calls with one choice per prompt (``n`` and ``best_of`` absent or 1) whose every
other field is identical — ``model``, ``temperature``, ``top_p``, ``max_tokens``, ``stop``, ``seed``,
``logprobs``, ``echo``, ``suffix``, ``logit_bias``, ``user``... — so each prompt is sampled exactly as it
would have been alone. With ``n == 1`` the upstream's choice ``index`` is the prompt's position, which is
what lets each caller get its own choices back. ``completion_tokens`` is split by the characters of each
caller's choices, ``prompt_tokens`` as :mod:`.openai_prompts` documents.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from inferlane.stages.batching.mergers.openai_prompts import OpenAIListMerger


class OpenAICompletionsMerger(OpenAIListMerger):
    __slots__ = ()
    item_field = "prompt"
    result_field = "choices"
    what = "completions"

    def key(self, body: dict[str, Any]) -> Hashable | None:
        if body.get("stream") not in (None, False):
            return None
        if body.get("n") not in (None, 1) or body.get("best_of") not in (None, 1):
            return None
        return super().key(body)

    def completion_weights(self, results: Sequence[Sequence[dict[str, Any]]]) -> list[int]:
        return [sum(len(choice.get("text") or "") for choice in part) for part in results]
