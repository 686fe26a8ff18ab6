"""Detecting config file changes for hot reload (polled; survives Kubernetes' ConfigMap symlink swap)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class ConfigFileWatcher:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._stat: tuple[int, int, str] | None = None
        self._digest: bytes | None = None
        self.reset()

    def _read(self) -> tuple[tuple[int, int, str], bytes] | None:
        try:
            real = os.path.realpath(self.path)
            st = os.stat(real)
            data = Path(real).read_bytes()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, real), hashlib.sha256(data).digest()

    def reset(self) -> None:
        current = self._read()
        if current is not None:
            self._stat, self._digest = current

    def poll(self) -> bool:
        """True when the file's content changed since the last poll (a missing file is no change)."""
        try:
            real = os.path.realpath(self.path)
            st = os.stat(real)
        except OSError:
            return False
        if self._stat == (st.st_mtime_ns, st.st_size, real):
            return False
        current = self._read()
        if current is None:
            return False
        stat, digest = current
        changed = digest != self._digest
        self._stat, self._digest = stat, digest
        return changed
