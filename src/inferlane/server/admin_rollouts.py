"""Admin API for rollouts and live weights (mounted on the admin port by ``AdminApi``).

Reads are open; mutations go through the admin token guard and are audited in the log:

    GET    /admin/rollouts                          every rollout's status
    GET    /admin/rollouts/<model>                  one rollout's status
    POST   /admin/rollouts/<model>/promote[?full=true] | pause | resume | abort
    GET    /admin/models/<model>/weights            the live weights of a model (null: config's weights)
    PUT    /admin/models/<model>/weights            {"weights": {"v1": 90, "v2": 10}}
    DELETE /admin/models/<model>/weights            back to the weights in config
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Self

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from inferlane.rollout.controller import RolloutController
from inferlane.rollout.state import CommandError
from inferlane.stages.split.weights import WeightOverrides

log = logging.getLogger("inferlane.admin")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Guard = Callable[[Handler], Handler]
#: the versions of a registry model by its canonical name (``[]``: no such model; ``None``: no registry)
KnownVersions = Callable[[str], list[str] | None]
ACTIONS = ("promote", "pause", "resume", "abort")


class WeightsBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    weights: dict[Annotated[str, Field(min_length=1)], Annotated[int, Field(ge=0, le=1_000_000)]]

    @model_validator(mode="after")
    def _positive(self) -> Self:
        if not self.weights or sum(self.weights.values()) <= 0:
            raise ValueError("weights need at least one version with a weight above 0")
        return self


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(data), content_type="application/json")


def _error(status: int, message: str, code: str) -> web.Response:
    return _json({"error": {"message": message, "type": "admin_error", "code": code}}, status)


class RolloutAdmin:
    def __init__(
        self,
        rollouts: RolloutController,
        overrides: WeightOverrides,
        known_versions: KnownVersions,
    ) -> None:
        self.rollouts = rollouts
        self.overrides = overrides
        self.known_versions = known_versions

    def mount(self, app: web.Application, guarded: Guard) -> None:
        app.router.add_get("/admin/rollouts", self.list_rollouts)
        app.router.add_get(
            "/admin/rollouts/{model:.+}/{action:promote|pause|resume|abort}", self.wrong_method
        )
        app.router.add_post(
            "/admin/rollouts/{model:.+}/{action:promote|pause|resume|abort}", guarded(self.act)
        )
        app.router.add_get("/admin/rollouts/{model:.+}", self.get_rollout)
        app.router.add_get("/admin/models/{model:.+}/weights", self.get_weights)
        app.router.add_put("/admin/models/{model:.+}/weights", guarded(self.put_weights))
        app.router.add_delete("/admin/models/{model:.+}/weights", guarded(self.delete_weights))

    # --- rollouts ------------------------------------------------------------------------------------

    async def list_rollouts(self, request: web.Request) -> web.Response:
        return _json({"rollouts": self.rollouts.describe_all()})

    async def get_rollout(self, request: web.Request) -> web.Response:
        model = request.match_info["model"]
        if model not in self.rollouts.rollouts:
            return self._no_rollout(model)
        return _json(self.rollouts.describe(model))

    async def wrong_method(self, request: web.Request) -> web.Response:
        return _error(405, f"use POST for {request.match_info['action']}", "method_not_allowed")

    async def act(self, request: web.Request) -> web.Response:
        model, action = request.match_info["model"], request.match_info["action"]
        if model not in self.rollouts.rollouts:
            return self._no_rollout(model)
        full = request.query.get("full", "").lower() in ("1", "true", "yes")
        before = self.rollouts.rollouts[model].state.phase.value
        try:
            status = self.rollouts.command(model, action, full)
        except CommandError as error:
            return _error(409, str(error), "rollout_conflict")
        log.info(
            "admin rollout %s of %s",
            action,
            model,
            extra={
                "audit": True,
                "model": model,
                "action": action,
                "full": full,
                "previous_phase": before,
                "phase": status["phase"],
                "remote": request.remote,
            },
        )
        return _json(status)

    def _no_rollout(self, model: str) -> web.Response:
        known = ", ".join(sorted(self.rollouts.rollouts)) or "none configured"
        return _error(404, f"no rollout for model {model!r} (rollouts: {known})", "rollout_not_found")

    # --- weights -------------------------------------------------------------------------------------

    async def get_weights(self, request: web.Request) -> web.Response:
        model = request.match_info["model"]
        return _json(self._weights_status(model))

    async def put_weights(self, request: web.Request) -> web.Response:
        model = request.match_info["model"]
        try:
            body = WeightsBody.model_validate_json(await request.read())
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()
            )
            return _error(
                400,
                f'invalid weights body ({problems}); expected {{"weights": {{"v1": 90}}}}',
                "invalid_body",
            )
        refused = self._refuse_manual(model)
        if refused is not None:
            return refused
        known = self.known_versions(model)
        if not known:
            why = (
                "no models are configured" if known is None else "no versions under that name; not an alias?"
            )
            return _error(404, f"model not found in registry: {model} ({why})", "model_not_found")
        unknown = sorted(set(body.weights) - set(known))
        if unknown:
            versions = ", ".join(known) or "none"
            message = f"unknown version(s) {', '.join(unknown)} of model {model!r}; versions: {versions}"
            return _error(400, message, "unknown_version")
        previous = self.overrides.get(model)
        self.overrides.set(model, body.weights)
        log.info(
            "admin set weights of %s",
            model,
            extra={
                "audit": True,
                "model": model,
                "weights": dict(body.weights),
                "previous": dict(previous) if previous else None,
                "remote": request.remote,
            },
        )
        return _json(self._weights_status(model))

    async def delete_weights(self, request: web.Request) -> web.Response:
        model = request.match_info["model"]
        refused = self._refuse_manual(model)
        if refused is not None:
            return refused
        previous = self.overrides.get(model)
        self.overrides.clear(model)
        log.info(
            "admin cleared weights of %s",
            model,
            extra={
                "audit": True,
                "model": model,
                "previous": dict(previous) if previous else None,
                "remote": request.remote,
            },
        )
        return _json(self._weights_status(model))

    def _refuse_manual(self, model: str) -> web.Response | None:
        if not self.rollouts.active(model):
            return None
        phase = self.rollouts.rollouts[model].state.phase.value
        return _error(
            409,
            f"model {model!r} has a running rollout ({phase}) that sets its weights; "
            "abort it first, or let it complete",
            "rollout_conflict",
        )

    def _weights_status(self, model: str) -> dict[str, Any]:
        weights = self.overrides.get(model)
        tracked = self.rollouts.rollouts.get(model)
        return {
            "model": model,
            "weights": dict(weights) if weights is not None else None,
            "source": "override" if weights is not None else "config",
            "rollout": tracked.state.phase.value if tracked is not None else None,
        }
