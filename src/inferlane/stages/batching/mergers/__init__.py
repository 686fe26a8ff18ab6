"""Protocol mergers: one per wire format, each implementing :class:`.base.Merger`.

:func:`merger_for` maps the protocol names used in configuration to a merger.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from inferlane.stages.batching.mergers.base import MergeError, Merger
from inferlane.stages.batching.mergers.kserve_v2 import KServeV2Merger
from inferlane.stages.batching.mergers.openai_completions import OpenAICompletionsMerger
from inferlane.stages.batching.mergers.openai_embeddings import OpenAIEmbeddingsMerger
from inferlane.stages.batching.mergers.tei import TeiEmbedMerger, TeiRerankMerger
from inferlane.stages.batching.mergers.tfserving import TfServingMerger

WireProtocol: TypeAlias = Literal[
    "openai-embeddings", "openai-completions", "tei-embed", "tei-rerank", "tfserving", "kserve-v2"
]

__all__ = ["MergeError", "Merger", "WireProtocol", "merger_for"]


def merger_for(protocol: WireProtocol) -> Merger:
    """The merger of a protocol (mergers hold no state; a fresh one is as good as a shared one)."""
    match protocol:
        case "openai-embeddings":
            return OpenAIEmbeddingsMerger()
        case "openai-completions":
            return OpenAICompletionsMerger()
        case "tei-embed":
            return TeiEmbedMerger()
        case "tei-rerank":
            return TeiRerankMerger()
        case "tfserving":
            return TfServingMerger()
        case "kserve-v2":
            return KServeV2Merger()
    raise ValueError(f"batching: no merger for protocol {protocol!r}")
