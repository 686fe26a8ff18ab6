"""`inferlane check-config` reports every problem with its line and exits non-zero."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SEED = """\
server:
  port: 15001
  readTimeout: 30s
  writeTimeout: 120s
batching:
  enabled: true
  maxBatchSize: 32
  maxWaitTimeMs: 50
  maxRequestTokens: 8192
  strategy: dynamic
routing:
  defaultEndpoint: http://localhost:8000
  endpoints:
    - path: /v1/chat/completions
      model: chat
      batchEnabled: true
    - path: /v1/embeddings
      model: embedding
      batchEnabled: true
      maxBatchSize: 64
circuitBreaker:
  enabled: true
  failureThreshold: 5
  recoveryTimeout: 30s
  halfOpenRequests: 3
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inferlane", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_seed_proxy_yaml_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "proxy.yaml"
    path.write_text(SEED)
    result = run("check-config", str(path))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_seed_configmap_is_valid(tmp_path: Path) -> None:
    body = "".join("    " + line + "\n" for line in SEED.splitlines())
    manifest = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: batch-proxy-config\n  namespace: ai-serving\n"
        f"data:\n  proxy.yaml: |\n{body}"
    )
    path = tmp_path / "cm.yaml"
    path.write_text(manifest)
    assert run("check-config", str(path)).returncode == 0


def test_every_problem_is_reported_with_line_and_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        SEED.replace("readTimeout: 30s", "readTimout: 30s").replace(
            "recoveryTimeout: 30s", "recoveryTimeout: soon"
        )
    )
    result = run("check-config", str(path))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert f"{path}:3:3: server.readTimout: unknown key 'readTimout' (did you mean 'readTimeout'?)" in lines
    assert any(line.startswith(f"{path}:24:") and "circuitBreaker.recoveryTimeout" in line for line in lines)
    assert "INVALID (2 problem(s))" in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    assert run("check-config", str(tmp_path / "nope.yaml")).returncode == 2


def test_proxy_refuses_to_start_on_invalid_config(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("server:\n  port: high\n")
    result = run("proxy", "--config", str(path))
    assert result.returncode == 1
    assert "server.port" in result.stderr
