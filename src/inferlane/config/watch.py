"""Detecting config file changes for hot reload, by polling.

Cheap check first (the resolved path, inode, size and mtime/ctime), then a sha256 of the bytes, so touching
a file or rewriting it with the same content is not a change. The path is resolved on every poll, which
follows Kubernetes' ConfigMap update: the mounted ``proxy.yaml`` is a symlink through ``..data``, and the
kubelet swaps ``..data`` atomically to a new timestamped directory. A missing or unreadable file is "no
change" (the old config keeps running); when it comes back with new content, that is a change.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class _Stamp:
    real_path: str
    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int


class ConfigFileWatcher:
    """Answers "did the file's content change since last time?"; the caller decides how often to ask."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._stamp: _Stamp | None = None
        self._digest: bytes | None = None
        self.reset()

    def reset(self) -> None:
        """Take the current content as the baseline (kept as it was if the file cannot be read now)."""
        stamp = self._stamp_now()
        digest = self._digest_of(stamp) if stamp is not None else None
        if stamp is not None and digest is not None:
            self._stamp, self._digest = stamp, digest

    def poll(self) -> bool:
        """True when the content differs from the baseline; the new content becomes the baseline."""
        stamp = self._stamp_now()
        if stamp is None or stamp == self._stamp:
            return False
        digest = self._digest_of(stamp)
        if digest is None:
            return False
        changed = digest != self._digest
        self._stamp, self._digest = stamp, digest
        return changed

    def _stamp_now(self) -> _Stamp | None:
        try:
            real = os.path.realpath(self.path)
            st = os.stat(real)
        except OSError:
            return None
        return _Stamp(real, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    @staticmethod
    def _digest_of(stamp: _Stamp) -> bytes | None:
        try:
            return hashlib.sha256(Path(stamp.real_path).read_bytes()).digest()
        except OSError:
            return None
