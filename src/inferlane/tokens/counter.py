"""Token counters: the seed's chars/4 estimate and a real tokenizer loaded from a local tokenizer.json.

Counting is synchronous here; the route stage decides whether a count is big enough to run on a worker
thread (:attr:`TokenCounter.offload_chars`).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Protocol

from inferlane.tokens.prompt import Prompt


class TokenCounter(Protocol):
    name: str
    #: prompts with more characters than this are counted off the event loop
    offload_chars: int | None

    def count(self, prompt: Prompt) -> int: ...


class CharEstimate:
    """The seed router's estimate: total characters / 4 (token ids count one each). O(1) per text."""

    name = "chars/4"
    offload_chars: int | None = None

    def count(self, prompt: Prompt) -> int:
        return prompt.chars // 4 + prompt.id_tokens


class LocalTokenizer:
    """A Hugging Face ``tokenizers`` tokenizer from a local ``tokenizer.json`` (never from a hub).

    Counts content tokens without special tokens or a chat template.
    """

    #: a byte-level BPE tokenizes ~4 KB per millisecond: beyond ~0.5 ms, use a worker thread
    OFFLOAD_CHARS = 2 * 1024

    def __init__(self, name: str, tokenizer: Any) -> None:
        self.name = name
        self.offload_chars: int | None = self.OFFLOAD_CHARS
        self._tokenizer = tokenizer

    @classmethod
    def from_file(cls, name: str, path: str | Path) -> LocalTokenizer:
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - the package is a pinned dependency
            raise ValueError(
                f"routing.tokenizers[{name}]: the 'tokenizers' package is not installed "
                "(pip install 'inferlane[tokenizers]')"
            ) from exc
        try:
            return cls(name, Tokenizer.from_file(str(path)))
        except Exception as exc:  # the Rust loader raises a bare Exception for malformed files
            raise ValueError(f"routing.tokenizers[{name}]: cannot load {str(path)!r}: {exc}") from exc

    @property
    def raw(self) -> Any:
        """The ``tokenizers.Tokenizer`` itself."""
        return self._tokenizer

    def count(self, prompt: Prompt) -> int:
        texts = list(prompt.texts)
        if not texts:
            return prompt.id_tokens
        # encode_batch releases the GIL while it works (encode does not), so the event loop keeps running
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        return sum(len(e.ids) for e in encodings) + prompt.id_tokens


class TokenCounters:
    """Which counter counts a prompt: a route's named tokenizer, else the first tokenizer declared for the
    request's model, else the chars/4 estimate."""

    def __init__(
        self,
        named: dict[str, TokenCounter] | None = None,
        by_model: tuple[tuple[tuple[str, ...], TokenCounter], ...] = (),
        default: TokenCounter | None = None,
    ) -> None:
        self.named = named or {}
        self.by_model = by_model
        self.default: TokenCounter = default or CharEstimate()

    def pick(self, tokenizer: str | None, model: str | None) -> TokenCounter:
        if tokenizer is not None:
            return self.named[tokenizer]
        if model is not None:
            for patterns, counter in self.by_model:
                if any(fnmatchcase(model, p) for p in patterns):
                    return counter
        return self.default


class TokenizerCache:
    """Loaded tokenizers kept across config reloads while their file is unchanged: parsing a real
    model's tokenizer.json takes a fraction of a second, which a reload must not spend on the event loop.
    Owned by the route stage factory of one app."""

    def __init__(self) -> None:
        self._loaded: dict[str, tuple[tuple[int, int], Any]] = {}

    def load(self, name: str, path: str) -> LocalTokenizer:
        stat = Path(path).stat()
        version = (stat.st_mtime_ns, stat.st_size)
        cached = self._loaded.get(path)
        if cached is not None and cached[0] == version:
            return LocalTokenizer(name, cached[1])
        tokenizer = LocalTokenizer.from_file(name, path)
        self._loaded[path] = (version, tokenizer.raw)
        return tokenizer

    def keep_only(self, paths: set[str]) -> None:
        for path in set(self._loaded) - paths:
            del self._loaded[path]
