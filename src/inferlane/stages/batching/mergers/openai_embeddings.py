"""OpenAI ``/v1/embeddings``: callers' ``input`` items concatenated, ``data`` re-indexed back per caller.

Merges only when every field but ``input`` is identical (``model``, ``dimensions``, ``encoding_format``,
``user`` and anything else), and only texts with texts or token ids with token ids. ``usage`` is split as
:mod:`.openai_prompts` documents: exact for token-id inputs, by characters for text.
"""

from __future__ import annotations

from inferlane.stages.batching.mergers.openai_prompts import OpenAIListMerger


class OpenAIEmbeddingsMerger(OpenAIListMerger):
    __slots__ = ()
    item_field = "input"
    result_field = "data"
    what = "embeddings"
