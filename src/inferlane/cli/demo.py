"""``inferlane demo``: a simulated model fleet with the proxy in front of it, and curl lines that work."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

import uvloop
import yaml

from inferlane.cli.demo_rollout import rollout_examples, rollout_sections
from inferlane.config.load import parse_config
from inferlane.observability.access_log import AccessLog
from inferlane.observability.logs import setup_logging
from inferlane.server.app import App
from inferlane.sim import FleetSpec, SimFleet

#: (backend, model, engine kind, replicas) — the seed's small/medium/large chat models and friends
DEMO_FLEET = (
    ("qwen-7b", "qwen2.5-7b-instruct", "vllm", 2),
    ("qwen-7b-canary", "qwen2.5-7b-instruct-canary", "vllm", 1),
    ("qwen-32b", "qwen2.5-32b-instruct", "vllm", 1),
    ("qwen-72b", "qwen2.5-72b-instruct", "vllm", 1),
    ("embed", "bge-small-en-v1.5", "tei", 1),
    ("rerank", "bge-reranker-base", "tei", 1),
    ("resnet", "resnet50", "tfserving", 1),
)


def demo_config(urls: dict[str, list[str]], port: int, admin_port: int) -> dict[str, Any]:
    engines = {backend: kind for backend, _, kind, _ in DEMO_FLEET}
    return {
        "server": {
            "host": "127.0.0.1",
            "port": port,
            "adminHost": "127.0.0.1",
            "adminPort": admin_port,
            "drainDelay": "0s",
        },
        "backends": [
            {"name": name, "endpoints": endpoints, "engine": engines[name]}
            for name, endpoints in urls.items()
        ],
        "routing": {
            "defaultBackend": "qwen-7b",
            "endpoints": [
                {"path": "/v1/embeddings", "backend": "embed", "model": "embedding"},
                {"path": "/embed", "backend": "embed"},
                {"path": "/v1/rerank", "backend": "rerank"},
                {"path": "/rerank", "backend": "rerank"},
                {"pathPrefix": "/v1/models/", "backend": "resnet", "name": "tfserving"},
                {"pathPrefix": "/v1/", "models": ["*-canary"], "backend": "qwen-7b-canary", "name": "canary"},
                {"pathPrefix": "/v1/", "models": ["qwen2.5-72b*"], "backend": "qwen-72b", "name": "large"},
                {"pathPrefix": "/v1/", "models": ["qwen2.5-32b*"], "backend": "qwen-32b", "name": "medium"},
                *demo_routes(),
            ],
        },
        "healthCheck": {"interval": "2s"},
        "logging": {"level": "warning"},
        "models": demo_models(),
    }


def demo_models() -> list[dict[str, Any]]:
    """The demo registry: the 7B chat model as a 90/10 canary split with an A/B header (docs/models.md)."""
    return [
        {
            "name": "qwen2.5-7b-instruct",
            "aliases": ["gpt-4o-mini"],
            "versions": [
                {"version": "stable", "backend": "qwen-7b", "weight": 90},
                {
                    "version": "canary",
                    "backend": "qwen-7b-canary",
                    "weight": 10,
                    "servedName": "qwen2.5-7b-instruct-canary",
                    "canary": True,
                },
            ],
            "experiment": {"header": "x-experiment", "variants": {"treatment-a": "canary"}},
        },
        _single("qwen2.5-72b-instruct", "qwen-72b", aliases=["gpt-4o"]),
        _single("qwen2.5-7b-instruct-canary", "qwen-7b-canary"),
        _single("qwen2.5-32b-instruct", "qwen-32b"),
        _single("bge-small-en-v1.5", "embed", aliases=["text-embedding-3-small"]),
        _single("bge-reranker-base", "rerank"),
        _single("resnet50", "resnet"),
    ]


def _single(name: str, backend: str, aliases: list[str] | None = None) -> dict[str, Any]:
    return {"name": name, "aliases": aliases or [], "versions": [{"version": "1", "backend": backend}]}


def examples(base: str, admin: str) -> str:
    chat = '{"model":"qwen2.5-7b-instruct","max_tokens":32,"messages":[{"role":"user","content":"Hello"}]}'
    stream = (
        '{"model":"qwen2.5-72b-instruct","max_tokens":32,"stream":true,'
        '"messages":[{"role":"user","content":"Hi"}]}'
    )
    return "\n".join(
        [
            "",
            "Inferlane demo is up. Try:",
            f"  curl -s {base}/v1/chat/completions -H 'content-type: application/json' -d '{chat}'",
            f"  curl -sN {base}/v1/chat/completions -H 'content-type: application/json' -d '{stream}'",
            f"  curl -s {base}/v1/embeddings -H 'content-type: application/json' "
            """-d '{"model":"bge-small-en-v1.5","input":["hello","world"]}'""",
            f"  curl -si {base}/v1/completions -H 'content-type: application/json' "
            """-d '{"model":"auto","max_tokens":8,"prompt":"Hello"}' | grep -i x-token-range""",
            f"  curl -s {base}/v1/completions -H 'content-type: application/json' -H 'x-model-type: chat' "
            """-d '{"model":"qwen2.5-7b-instruct","max_tokens":8,"prompt":"Hello"}'""",
            f"  curl -s {base}/v1/models/resnet50:predict -H 'content-type: application/json' "
            """-d '{"instances":[[1.0,2.0,3.0]]}'""",
            f"  curl -s {base}/v1/models",
            f"  curl -si {base}/v1/chat/completions -H 'content-type: application/json' "
            """-H 'x-experiment: treatment-a' -d '{"model":"qwen2.5-7b-instruct","max_tokens":8,"""
            """"messages":[{"role":"user","content":"Hi"}]}' | grep -i x-inferlane""",
            f"  curl -s {admin}/metrics | grep inferlane_",
            f"  curl -s {admin}/admin/state",
            f"  inferlane top --admin {admin}      # or open {admin}/ in a browser (status page)",
            "",
            "Ctrl-C stops everything.",
        ]
    )


class Demo:
    """The demo fleet and the proxy in front of it; also used by the end-to-end tests."""

    def __init__(
        self,
        port: int,
        admin_port: int,
        time_scale: float = 1.0,
        access_log: bool = True,
        rollout: bool = False,
    ) -> None:
        self.rollout = rollout
        self.port = port
        self.admin_port = admin_port
        self.fleets = [
            SimFleet(
                FleetSpec.quick(model=model, replicas=replicas, port=0, kind=kind, time_scale=time_scale)
            )
            for _, model, kind, replicas in DEMO_FLEET
        ]
        self.access_log = access_log
        self.app: App | None = None

    async def start(self) -> App:
        for fleet in self.fleets:
            await fleet.start()
        urls = {
            backend: [r.url for r in fleet.replicas]
            for (backend, *_), fleet in zip(DEMO_FLEET, self.fleets, strict=True)
        }
        sections = demo_config(urls, self.port, self.admin_port)
        if self.rollout:
            sections.update(rollout_sections())
        config = parse_config(yaml.safe_dump(sections), source="<demo>")
        self.app = App(config, access_log=AccessLog() if self.access_log else None)
        await self.app.start()
        return self.app

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.shutdown()
        for fleet in self.fleets:
            await fleet.stop()


async def _run(port: int, admin_port: int, rollout: bool) -> None:
    demo = Demo(port, admin_port, rollout=rollout)
    try:
        app = await demo.start()
        assert app.listeners is not None
        base, admin = f"http://127.0.0.1:{app.listeners.port}", f"http://127.0.0.1:{app.listeners.admin_port}"
        print(examples(base, admin))
        if rollout:
            canary = demo.fleets[[name for name, *_ in DEMO_FLEET].index("qwen-7b-canary")]
            print(rollout_examples(base, admin, canary.replicas[0].url))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        print("\nstopping…")
    finally:
        await demo.stop()


def run_demo(args: argparse.Namespace) -> int:
    setup_logging("warning", "text")
    rollout = bool(getattr(args, "rollout", False))
    if rollout:
        logging.getLogger("inferlane.rollout").setLevel(logging.INFO)  # every transition, with its reason
    uvloop.run(_run(args.port, args.admin_port, rollout))
    return 0


def demo_routes() -> list[dict[str, Any]]:
    """Model ``auto`` routed by prompt size (the seed's small/medium/large split, docs/routes.md), and
    ``/v1/completions`` with ``x-model-type: chat`` translated to the chat API (the seed's Envoy rewrite)."""
    sizes = (("small", {"max": 1000}, "7b"), ("medium", {"min": 1000, "max": 8000}, "32b"))
    ranges = [*sizes, ("large", {"min": 8000}, "72b")]
    by_size = [
        {
            "name": f"auto-{name}",
            "pathPrefix": "/v1/",
            "models": ["auto"],
            "promptTokens": {**bounds, "name": name},
            "backend": f"qwen-{size}",
            "rewrite": {"model": f"qwen2.5-{size}-instruct"},
        }
        for name, bounds, size in ranges
    ]
    chat = {"exact": "chat"}
    translated = {"name": "completions-as-chat", "path": "/v1/completions", "headers": {"x-model-type": chat}}
    return [*by_size, {**translated, "translate": "completionsToChat"}]
