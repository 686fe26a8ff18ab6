"""Point a request at a model version: backend, served name, max-tokens cap, decision headers.

The body is re-encoded only when something in it changes (the ``model`` field or ``max_tokens``);
otherwise the client's bytes are forwarded untouched.
"""

from __future__ import annotations

from typing import Any

import orjson

from inferlane.pipeline.context import RequestContext
from inferlane.registry.model import Model, Version

#: ``ctx.extra`` key holding the registry :class:`Model` the request resolved to (mirror, fallback read it)
MODEL_KEY = "registry.model"
#: ``ctx.extra`` key: (model name, version) the split chose before a fallback moved the request elsewhere,
#: so rollout analysis counts the failure against the version that failed (set by the fallback stage)
FIRST_CHOICE_KEY = "split.first_choice"
#: paths where an absent ``max_tokens`` means "as long as the context allows" (so the cap is added)
_UNBOUNDED_BY_DEFAULT = frozenset({"/v1/chat/completions"})


def canonical_model(ctx: RequestContext) -> str | None:
    """The registry name of the model that served (or is serving) the request — after a fallback, the
    fallback's — whatever alias the client used and whatever served name the server saw; ``None`` when
    the request did not go through the registry. Observers (rollout analysis, metrics) key on this."""
    model = ctx.extra.get(MODEL_KEY)
    return model.name if isinstance(model, Model) else None


def assign(ctx: RequestContext, model: Model, version: Version | None) -> None:
    ctx.extra[MODEL_KEY] = model
    ctx.version = version.name if version is not None else None
    if version is not None and version.backend is not None:
        ctx.backend = version.backend
    served = model.served_name(version)
    ctx.model = served
    headers = ctx.response_headers
    headers["x-inferlane-model"] = model.name
    if version is not None:
        headers["x-inferlane-version"] = version.name
    else:
        headers.pop("x-inferlane-version", None)
    body = ctx.json
    if body is None:
        return
    changes: dict[str, Any] = {}
    if body.get("model") != served:
        changes["model"] = served
    if model.max_tokens is not None:
        changes.update(_capped(body, model.max_tokens, ctx.request.path))
    if changes:
        rewritten = {**body, **changes}
        ctx.json = rewritten
        ctx.body = orjson.dumps(rewritten)


def _capped(body: dict[str, Any], cap: int, path: str) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    present = False
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            present = True
            if value > cap:
                changes[name] = cap
    if not present and path in _UNBOUNDED_BY_DEFAULT:
        changes["max_tokens"] = cap
    return changes
