"""The ``split`` decide stage: resolve the model in the registry, pick its version, point the request.

Answers ``GET /v1/models`` from the registry; an unknown model gets 404 ``model not found in registry``
with the closest known names. Runs after ``route`` (which may have rewritten the model name), so it
resolves the current ``ctx.model``.
"""

from __future__ import annotations

from collections.abc import Callable

from inferlane.errors import ModelBackendNotAllowed, ModelEndpointNotAllowed, ModelNotFound
from inferlane.model import ProxyResponse
from inferlane.pipeline.context import RequestContext
from inferlane.registry.model import Model
from inferlane.registry.registry import Registry
from inferlane.stages.split.assign import assign
from inferlane.stages.split.chooser import VersionChooser

#: (model, version, reason) of each decision, for metrics
DecisionHook = Callable[[str, str, str], None]
_JSON = ("Content-Type", "application/json")
#: the route stage's name for "no route matched"
DEFAULT_ROUTE = "default"


class SplitStage:
    name = "split"

    def __init__(
        self, registry: Registry, chooser: VersionChooser, on_decision: DecisionHook | None = None
    ) -> None:
        self.registry = registry
        self.chooser = chooser
        self.on_decision = on_decision

    async def decide(self, ctx: RequestContext) -> ProxyResponse | None:
        request = ctx.request
        if request.method == "GET" and request.path.startswith("/v1/models"):
            answer = self._models(request.path, ctx.route)
            if answer is not None:
                return answer
        name = ctx.model
        if name is None:
            return None
        model = self.registry.resolve(name)
        if model is None:
            if name != ctx.requested_model:
                return None  # a route rewrote the name to one the registry does not list: the route decides
            raise ModelNotFound(not_found_message(self.registry, name))
        if model.allowed_endpoints and request.path not in model.allowed_endpoints:
            allowed = ", ".join(sorted(model.allowed_endpoints))
            raise ModelEndpointNotAllowed(
                f"model {model.name!r} is not served on {request.path} (allowed: {allowed})"
            )
        self.point(ctx, model)
        if model.allowed_backends and ctx.backend not in model.allowed_backends:
            allowed = ", ".join(sorted(model.allowed_backends))
            raise ModelBackendNotAllowed(
                f"model {model.name!r} is not served by backend {ctx.backend!r} (allowed: {allowed})"
            )
        return None

    def _models(self, path: str, route: str) -> ProxyResponse | None:
        """OpenAI's ``GET /v1/models`` and ``GET /v1/models/<name>``; the latter only when no explicit route
        took the path (TF Serving's model status lives at the same address)."""
        if path == "/v1/models":
            return ProxyResponse(200, [_JSON], body=self.registry.listing)
        name = path.removeprefix("/v1/models/")
        if route != DEFAULT_ROUTE or name == path or not name or "/" in name or ":" in name:
            return None
        card = self.registry.card(name)
        if card is None:
            raise ModelNotFound(not_found_message(self.registry, name))
        return ProxyResponse(200, [_JSON], body=card)

    def point(self, ctx: RequestContext, model: Model) -> None:
        chosen = self.chooser.choose(model, ctx.request.headers, ctx.json)
        if chosen is None:
            assign(ctx, model, None)
            return
        version, choice = chosen
        assign(ctx, model, version)
        if self.on_decision is not None:
            self.on_decision(model.name, version.name, choice.reason)


def not_found_message(registry: Registry, name: str) -> str:
    close = registry.suggestions(name)
    if close:
        return f"model not found in registry: {name} (closest known: {', '.join(close)})"
    known = [model.name for model in registry.models]
    shown = ", ".join(known[:10]) + (", …" if len(known) > 10 else "")
    return f"model not found in registry: {name} (known models: {shown})"
