"""Per-request mutable state carried through the pipeline."""

from __future__ import annotations

from typing import Any

from inferlane.model import Endpoint, ProxyRequest


class RequestContext:
    """What stages know and decide about one request.

    The edge fills the request facts (``request``, ``request_id``, ``json``, ``model``, ``stream``);
    decide stages set the target (``route``, ``backend``, ``upstream_path``, ``body``); interceptors and
    the upstream call record attempts. ``json`` is the parsed body when the request is JSON; stages that
    change it set ``body`` to the re-encoded bytes so the original bytes are forwarded untouched otherwise.
    """

    __slots__ = (
        "attempt_deadline",
        "attempts",
        "backend",
        "body",
        "criticality",
        "deadline",
        "endpoint",
        "extra",
        "fallback_from",
        "first_byte_at",
        "json",
        "model",
        "observation",
        "priority",
        "prompt_tokens",
        "queued_s",
        "request",
        "request_id",
        "requested_model",
        "response_headers",
        "retries",
        "route",
        "started",
        "stream",
        "tenant",
        "token_range",
        "tried",
        "upstream_headers",
        "upstream_path",
        "usage",
        "version",
    )

    def __init__(
        self,
        request: ProxyRequest,
        request_id: str,
        started: float,
        deadline: float,
        json: dict[str, Any] | None = None,
    ) -> None:
        self.request = request
        self.request_id = request_id
        self.started = started
        self.deadline = deadline
        #: the current attempt must have response headers by then (per-try timeout)
        self.attempt_deadline = deadline
        self.json = json
        model = json.get("model") if json is not None else None
        self.model: str | None = model if isinstance(model, str) else None
        #: the model name exactly as the client sent it (``model`` may be rewritten by routing)
        self.requested_model: str | None = self.model
        #: the model version chosen by the registry / traffic split (``None`` when unversioned)
        self.version: str | None = None
        #: prompt tokens as counted (or estimated) by routing; ``None`` until something counts them
        self.prompt_tokens: int | None = None
        #: admission class: ``critical`` | ``standard`` | ``sheddable``; numeric ``priority`` (higher first)
        self.criticality: str = "standard"
        self.priority: int = 0
        #: tenant label (bounded cardinality) when configured
        self.tenant: str | None = None
        #: seconds spent waiting in admission / batching queues
        self.queued_s: float = 0.0
        #: the model that was asked for before a fallback chose another one
        self.fallback_from: str | None = None
        #: the edge clock's reading when the first response byte was relayed to the client
        self.first_byte_at: float | None = None
        #: token usage of the answer once known (the observability layer's ``Usage``)
        self.usage: Any = None
        self.stream: bool = bool(json.get("stream")) if json is not None else False
        self.body: bytes = request.body
        self.route: str = "-"
        #: the matched route's token-range name (``model_size``), ``-`` without one
        self.token_range: str = "-"
        self.backend: str | None = None
        self.upstream_path: str = request.target
        #: headers the proxy sets on the upstream request, by lower-case name (they replace the client's)
        self.upstream_headers: dict[str, str] = {}
        self.response_headers: dict[str, str] = {}
        self.tried: list[Endpoint] = []
        self.endpoint: Endpoint | None = None
        self.attempts = 0
        self.retries = 0
        #: free-form annotations stages leave for later stages, logs and metrics
        self.extra: dict[str, Any] = {}
        #: what observability/ measures while the request runs (an ``Observation``; ``None`` before the
        #: interceptors or when the metrics stage is absent)
        self.observation: Any = None
