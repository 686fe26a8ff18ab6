"""`inferlane check-config` names an unreachable route, the route that hides it, and its line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONFIG = """\
routing:
  defaultEndpoint: http://localhost:8000
  endpoints:
    - name: everything-v1
      pathPrefix: /v1/
    - name: completions-as-chat
      path: /v1/completions
      headers:
        x-model-type: {exact: chat}
      translate: completionsToChat
"""


def test_unreachable_route_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "proxy.yaml"
    path.write_text(CONFIG)
    result = subprocess.run(
        [sys.executable, "-m", "inferlane", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert f"{path}:6:" in out
    assert "route 'completions-as-chat' is unreachable: route 'everything-v1' (routing.endpoints[0])" in out
