"""The one error tree. Each error knows its HTTP status, OpenAI error type/code and a metrics kind.

Errors are raised anywhere in the pipeline and mapped once, at the HTTP edge, to an OpenAI-style body:
``{"error": {"message": ..., "type": ..., "code": ...}}``. Messages reuse the seed's troubleshooting
table (``model not found in registry``, ``circuit breaker open``, ``request body too large``, ...) and name
the specifics (which model, which backend, which limit).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import orjson


class InferlaneError(Exception):
    status: ClassVar[int] = 500
    error_type: ClassVar[str] = "server_error"
    code: ClassVar[str] = "internal_error"
    #: bounded label for metrics and access logs
    kind: ClassVar[str] = "internal"

    def __init__(self, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers: Mapping[str, str] = headers or {}

    def body(self) -> bytes:
        return orjson.dumps({"error": {"message": self.message, "type": self.error_type, "code": self.code}})


# --- client errors -------------------------------------------------------------------------------


class BadRequest(InferlaneError):
    status = 400
    error_type = "invalid_request_error"
    code = "bad_request"
    kind = "bad_request"


class InvalidJSON(BadRequest):
    code = "invalid_json"
    kind = "invalid_json"


class MissingModel(BadRequest):
    code = "missing_model"
    kind = "missing_model"


class ModelNotFound(InferlaneError):
    status = 404
    error_type = "invalid_request_error"
    code = "model_not_found"
    kind = "model_not_found"


class ModelEndpointNotAllowed(BadRequest):
    """The registry's ``defaults.allowedEndpoints`` of the model do not include the request's path."""

    code = "model_endpoint_not_allowed"
    kind = "model_endpoint_not_allowed"


class ModelBackendNotAllowed(BadRequest):
    """The route chose a backend outside the model's ``defaults.allowedBackends``."""

    code = "model_backend_not_allowed"
    kind = "model_backend_not_allowed"


class RequestTimeout(InferlaneError):
    status = 408
    error_type = "invalid_request_error"
    code = "request_timeout"
    kind = "client_read_timeout"


class RequestTooLarge(InferlaneError):
    status = 413
    error_type = "invalid_request_error"
    code = "request_too_large"
    kind = "body_too_large"


class Unauthorized(InferlaneError):
    status = 401
    error_type = "authentication_error"
    code = "unauthorized"
    kind = "unauthorized"


class RateLimited(InferlaneError):
    status = 429
    error_type = "rate_limit_error"
    code = "rate_limit_exceeded"
    kind = "rate_limited"


# --- proxy-side unavailability --------------------------------------------------------------------


class Unavailable(InferlaneError):
    status = 503
    error_type = "server_error"
    code = "service_unavailable"
    kind = "unavailable"


class NoHealthyEndpoint(Unavailable):
    code = "no_healthy_upstream"
    kind = "no_endpoint"


class CircuitOpen(Unavailable):
    code = "circuit_breaker_open"
    kind = "circuit_open"


class PoolFull(Unavailable):
    code = "upstream_pool_full"
    kind = "pool_full"


class Overloaded(Unavailable):
    code = "overloaded"
    kind = "overloaded"


class Draining(Unavailable):
    code = "draining"
    kind = "draining"


# --- upstream failures ----------------------------------------------------------------------------


class UpstreamError(InferlaneError):
    """The upstream could not be reached or broke before sending response headers."""

    status = 502
    error_type = "server_error"
    code = "upstream_error"
    kind = "upstream_reset"


class UpstreamConnectError(UpstreamError):
    code = "upstream_connect_error"
    kind = "connect_failure"


class UpstreamProtocolError(UpstreamError):
    """The upstream answered something that is not valid HTTP or lied about its body length."""

    code = "upstream_protocol_error"
    kind = "upstream_protocol"


class UpstreamTimeout(InferlaneError):
    status = 504
    error_type = "server_error"
    code = "upstream_timeout"
    kind = "timeout"


class ConnectTimeout(UpstreamTimeout):
    code = "upstream_connect_timeout"
    kind = "connect_timeout"


class FirstByteTimeout(UpstreamTimeout):
    code = "upstream_first_byte_timeout"
    kind = "first_byte_timeout"


class IdleTimeout(UpstreamTimeout):
    code = "upstream_idle_timeout"
    kind = "idle_timeout"


class TotalTimeout(UpstreamTimeout):
    code = "request_timeout"
    kind = "total_timeout"


class BatchTimeout(UpstreamTimeout):
    code = "batch_timeout"
    kind = "batch_timeout"


# --- admission control ----------------------------------------------------------------------


class Shed(RateLimited):
    """Admission refused the request: the pool is saturated (sheddable), the queue is full, the request
    was evicted by a more important one, or it waited past the queue timeout. Carries ``Retry-After`` and
    ``x-inferlane-dropped-reason``."""

    code = "request_dropped"
    kind = "shed"


class NoEndpointAvailable(NoHealthyEndpoint):
    """A queued request timed out and its backend has no endpoint that could take it."""

    kind = "no_endpoint"
