"""The HTTP client of one backend: a pooled aiohttp session, one attempt per :meth:`send`.

Bytes are forwarded untouched (no decompression, no JSON re-encoding). Each failure mode maps to its own
error: connect refused/unreachable → 502 connect error, connect timeout → 504, no response headers in
time → 504 first-byte timeout, reset before headers → 502, a lying Content-Length → 502 protocol error.
"""

from __future__ import annotations

import asyncio
import math

import aiohttp
from yarl import URL

from inferlane.config.schema import BackendConfig
from inferlane.errors import (
    ConnectTimeout,
    FirstByteTimeout,
    TotalTimeout,
    UpstreamConnectError,
    UpstreamError,
    UpstreamProtocolError,
)
from inferlane.model import ProxyResponse
from inferlane.pipeline.context import RequestContext
from inferlane.upstream.headers import downstream_response_headers, upstream_request_headers
from inferlane.upstream.lease import Lease, Result
from inferlane.upstream.stream import UpstreamStream

#: responses up to this size with a Content-Length are read whole and written in one go
FULL_BODY_LIMIT = 1 << 20


class UpstreamClient:
    def __init__(self, config: BackendConfig) -> None:
        self.name = config.name
        pool, timeouts = config.connection_pool, config.timeouts
        self.connect_timeout = timeouts.connect
        self.first_byte_timeout = timeouts.first_byte if timeouts.first_byte is not None else math.inf
        self.idle_timeout = timeouts.idle
        self.total_timeout = timeouts.total
        connector = aiohttp.TCPConnector(
            limit=0,
            limit_per_host=pool.max_connections,
            keepalive_timeout=pool.idle_timeout,
            enable_cleanup_closed=False,
            ttl_dns_cache=10,
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            timeout=aiohttp.ClientTimeout(total=None, connect=None, sock_connect=timeouts.connect),
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def aclose(self) -> None:
        await self.session.close()

    async def send(self, ctx: RequestContext, lease: Lease) -> ProxyResponse:
        """One attempt. Records a local failure on the lease itself; the status is the caller's to judge."""
        endpoint = lease.state.endpoint
        loop = asyncio.get_running_loop()
        now = loop.time()
        wait = min(self.first_byte_timeout, ctx.attempt_deadline - now)
        headers = upstream_request_headers(
            ctx.request.headers, ctx.request.client_ip, ctx.request_id, ctx.upstream_headers
        )
        url = URL(endpoint.url + ctx.upstream_path, encoded=True)
        where = f"backend {self.name!r} endpoint {endpoint.authority}"
        try:
            async with asyncio.timeout(wait):
                response = await self.session.request(
                    ctx.request.method, url, data=ctx.body, headers=headers, allow_redirects=False
                )
        except aiohttp.ConnectionTimeoutError as exc:
            lease.finish(Result.LOCAL_FAILURE)
            raise ConnectTimeout(
                f"upstream connect timeout after {self.connect_timeout:g}s: {where}"
            ) from exc
        except TimeoutError as exc:
            lease.finish(Result.LOCAL_FAILURE)
            if ctx.deadline - now <= wait:
                raise TotalTimeout(f"request timeout: no response from {where} before the deadline") from exc
            if wait < self.first_byte_timeout:
                raise FirstByteTimeout(f"per-try timeout: no response headers from {where}") from exc
            raise FirstByteTimeout(
                f"upstream sent no response headers within {self.first_byte_timeout:g}s: {where}"
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            lease.finish(Result.LOCAL_FAILURE)
            raise UpstreamConnectError(
                f"upstream connect error or disconnect/reset before headers: {where} ({exc.os_error})"
            ) from exc
        except aiohttp.ClientResponseError as exc:
            lease.finish(Result.LOCAL_FAILURE)
            raise UpstreamProtocolError(
                f"upstream sent an invalid response: {where} ({exc.message})"
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            lease.finish(Result.LOCAL_FAILURE)
            raise UpstreamError(
                f"upstream connect error or disconnect/reset before headers: {where} ({type(exc).__name__})"
            ) from exc
        except BaseException:
            lease.finish(Result.ABANDONED)
            raise
        return await self._relay(response, ctx, lease, where)

    async def _relay(
        self, response: aiohttp.ClientResponse, ctx: RequestContext, lease: Lease, where: str
    ) -> ProxyResponse:
        status = response.status
        headers = downstream_response_headers(response.headers.items())
        length = response.content_length
        event_stream = response.content_type == "text/event-stream"
        if event_stream or length is None or length > FULL_BODY_LIMIT:
            stream = UpstreamStream(response, lease, self.idle_timeout, ctx.deadline, where)
            return ProxyResponse(
                status, headers, stream=stream, close=stream.aclose, endpoint=lease.state.endpoint
            )
        try:
            if response.content.is_eof():  # the whole body came with the headers: no timer needed
                body = await response.read()
            else:
                wait = min(self.idle_timeout, ctx.deadline - asyncio.get_running_loop().time())
                async with asyncio.timeout(wait):
                    body = await response.read()
        except TimeoutError as exc:
            response.close()
            lease.finish(Result.LOCAL_FAILURE)
            raise FirstByteTimeout(f"upstream stopped sending its response body: {where}") from exc
        except aiohttp.ClientPayloadError as exc:
            response.close()
            lease.finish(Result.LOCAL_FAILURE)
            raise UpstreamProtocolError(
                f"upstream response body ended early (Content-Length {length}): {where}"
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            response.close()
            lease.finish(Result.LOCAL_FAILURE)
            raise UpstreamError(f"upstream reset while sending its response: {where}") from exc
        except BaseException:
            response.close()
            lease.finish(Result.ABANDONED)
            raise
        response.release()
        lease.finish_status(status)
        return ProxyResponse(status, headers, body=body, endpoint=lease.state.endpoint)
