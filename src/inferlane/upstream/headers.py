"""Header rules for a proxy hop (RFC 9110 §7.6.1): hop-by-hop fields are not forwarded either way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_REQUEST_DROP = HOP_BY_HOP | {
    "host",
    "content-length",
    "expect",
    "x-forwarded-for",
    "x-request-id",
    # the admin token that unlocks debug headers never leaves the proxy
    "x-inferlane-admin-token",
}
_RESPONSE_DROP = HOP_BY_HOP | {"content-length"}


def _tokens(value: str) -> frozenset[str]:
    return frozenset(token.strip().lower() for token in value.split(",") if token.strip())


def upstream_request_headers(
    incoming: Mapping[str, str],
    client_ip: str,
    request_id: str,
    overrides: Mapping[str, str],
) -> list[tuple[str, str]]:
    """Headers to send upstream: end-to-end ones kept, XFF appended, the request id set, overrides applied."""
    drop = _REQUEST_DROP
    connection = incoming.get("connection")
    if connection:
        drop = drop | _tokens(connection)
    # override names are lower-case (``RequestContext.upstream_headers``): no set built per request
    out = [(k, v) for k, v in incoming.items() if (name := k.lower()) not in drop and name not in overrides]
    forwarded = incoming.get("x-forwarded-for")
    out.append(("X-Forwarded-For", f"{forwarded}, {client_ip}" if forwarded else client_ip))
    out.append(("X-Request-Id", request_id))
    out.extend(overrides.items())
    return out


def downstream_response_headers(upstream: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    pairs = list(upstream)
    drop = _RESPONSE_DROP
    for name, value in pairs:
        if name.lower() == "connection":
            drop = drop | _tokens(value)
    return [(k, v) for k, v in pairs if k.lower() not in drop]
