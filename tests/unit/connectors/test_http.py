"""The shared source client: error mapping, retries, Retry-After, breaker, auth refresh."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest
from tenacity import wait_none

from connectors.auth import BearerToken, HmacSigner, OAuthClientCredentials, canonical_query
from connectors.breaker import BreakerState, CircuitBreaker
from connectors.errors import (
    BreakerOpen,
    SourceAuthError,
    SourceConnectionError,
    SourceRateLimited,
    SourceRequestRejected,
    SourceServerError,
)
from connectors.http import SourceClient
from connectors.retry import RetrySettings
from domain.enums import SourceSystem

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


class FakeSleep:
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def _client(handler: Handler, **kwargs: object) -> SourceClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://src")
    return SourceClient(
        source=SourceSystem.COURT,
        http=http,
        retry=RetrySettings(attempts=4, total_seconds=60),
        sleep=FakeSleep(),
        **kwargs,  # type: ignore[arg-type]
    )


def _sequence(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    return handler, seen


async def test_5xx_then_success_is_retried_and_counted() -> None:
    handler, seen = _sequence(httpx.Response(503), httpx.Response(502), httpx.Response(200))
    client = _client(handler, wait=wait_none())
    response = await client.request("GET", "/cases")
    assert response.status_code == 200
    assert len(seen) == 3
    assert client.retries == 2


async def test_persistent_5xx_gives_up_after_the_attempt_limit() -> None:
    handler, seen = _sequence(httpx.Response(500))
    client = _client(handler, wait=wait_none())
    with pytest.raises(SourceServerError):
        await client.request("GET", "/cases")
    assert len(seen) == 4


async def test_429_honours_retry_after() -> None:
    handler, _ = _sequence(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200))
    client = _client(handler)
    await client.request("GET", "/cases")
    assert isinstance(client.sleep, FakeSleep)
    assert client.sleep.slept == [7.0]


async def test_429_storm_surfaces_rate_limited() -> None:
    handler, _ = _sequence(httpx.Response(429, headers={"Retry-After": "1"}))
    with pytest.raises(SourceRateLimited) as raised:
        await _client(handler).request("GET", "/cases")
    assert raised.value.retry_after == 1.0


async def test_other_4xx_is_not_retried() -> None:
    handler, seen = _sequence(httpx.Response(404))
    with pytest.raises(SourceRequestRejected):
        await _client(handler, wait=wait_none()).request("GET", "/cases")
    assert len(seen) == 1


async def test_transport_errors_are_mapped_and_retried() -> None:
    handler, seen = _sequence(httpx.ConnectError("refused"), httpx.Response(200))
    client = _client(handler, wait=wait_none())
    assert (await client.request("GET", "/x")).status_code == 200
    assert len(seen) == 2


async def test_transport_error_chain_keeps_the_cause() -> None:
    handler, _ = _sequence(httpx.ReadError("reset"))
    with pytest.raises(SourceConnectionError) as raised:
        await _client(handler, wait=wait_none()).request("GET", "/x")
    assert isinstance(raised.value.__cause__, httpx.ReadError)


async def test_a_refused_connection_names_where_nothing_answered() -> None:
    # given a base URL whose port nothing listens on (a wrong port in the sources file)
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(refuse),
                             base_url="http://svc:s3cret@127.0.0.1:19299/court")
    client = SourceClient(source=SourceSystem.COURT, http=http,
                          retry=RetrySettings(attempts=2, total_seconds=60), sleep=FakeSleep(),
                          wait=wait_none())
    # when a request is made
    with pytest.raises(SourceConnectionError) as raised:
        await client.request("GET", "/api/v1/cases")
    # then the error says it could not connect, and to which host and port, never the password
    assert str(raised.value) == "COURT: cannot connect to 127.0.0.1:19299 (ConnectError)"


def _breaker(threshold: int, now: list[float]) -> CircuitBreaker:
    return CircuitBreaker(SourceSystem.COURT, threshold=threshold, cooldown=30,
                          clock=lambda: now[0])


async def test_one_requests_retries_alone_do_not_open_the_breaker() -> None:
    # given a breaker that opens at as many failures as a request makes attempts (the
    # defaults' shape: 5 attempts, a threshold of 3)
    breaker = _breaker(threshold=4, now=[1000.0])
    handler, seen = _sequence(httpx.Response(500), httpx.Response(500), httpx.Response(500),
                              httpx.Response(500), httpx.Response(200))
    client = _client(handler, wait=wait_none(), breaker=breaker)
    # when one request fails every one of its four attempts
    with pytest.raises(SourceServerError):
        await client.request("GET", "/x")
    # then that is one failure of the source, not four: the next request goes out
    assert (breaker.state, breaker.consecutive_failures) == (BreakerState.CLOSED, 1)
    assert (await client.request("GET", "/x")).status_code == 200
    assert len(seen) == 5
    assert (breaker.state, breaker.consecutive_failures) == (BreakerState.CLOSED, 0)


async def test_requests_that_keep_failing_open_the_breaker_until_a_trial_succeeds() -> None:
    now = [1000.0]
    breaker = _breaker(threshold=3, now=now)
    handler, seen = _sequence(httpx.Response(500))
    client = _client(handler, wait=wait_none(), breaker=breaker)
    # when three requests in a row fail with their retries spent
    for _ in range(3):
        with pytest.raises(SourceServerError):
            await client.request("GET", "/x")
    # then the breaker is open and the next request is refused without a call
    assert breaker.state is BreakerState.OPEN
    assert len(seen) == 3 * 4
    with pytest.raises(BreakerOpen):
        await client.request("GET", "/x")
    assert len(seen) == 3 * 4
    # and after the cool-down one trial call that succeeds closes it
    now[0] += 31
    ok_handler, _ = _sequence(httpx.Response(200))
    client.http = httpx.AsyncClient(transport=httpx.MockTransport(ok_handler), base_url="http://s")
    await client.request("GET", "/x")
    assert (breaker.state, breaker.consecutive_failures) == (BreakerState.CLOSED, 0)


async def test_a_failed_trial_opens_the_breaker_again_without_retrying() -> None:
    now = [1000.0]
    breaker = _breaker(threshold=3, now=now)
    breaker.state, breaker.consecutive_failures, breaker.opened_at = (
        BreakerState.OPEN, 3, now[0])
    now[0] += 31
    handler, seen = _sequence(httpx.Response(503))
    client = _client(handler, wait=wait_none(), breaker=breaker)
    # when the trial call after the cool-down fails
    with pytest.raises(BreakerOpen):
        await client.request("GET", "/x")
    # then its request makes no second attempt, and the breaker is open for another cool-down
    assert len(seen) == 1
    assert (breaker.state, breaker.opened_at) == (BreakerState.OPEN, now[0])


async def test_a_request_stops_retrying_once_the_breaker_opens() -> None:
    breaker = _breaker(threshold=2, now=[1000.0])
    handler, seen = _sequence(httpx.Response(503))

    async def others_fail_meanwhile(_seconds: float) -> None:
        for _ in range(2):  # two other requests to the source fail while this one waits
            breaker.record_failure()

    client = _client(handler, wait=wait_none(), breaker=breaker)
    client.sleep = others_fail_meanwhile
    with pytest.raises(BreakerOpen):
        await client.request("GET", "/x")
    assert len(seen) == 1


async def test_half_open_lets_exactly_one_trial_call_through() -> None:
    now = [1000.0]
    breaker = _breaker(threshold=3, now=now)
    breaker.state, breaker.opened_at = BreakerState.OPEN, now[0]
    now[0] += 31
    answer, asked = asyncio.Event(), asyncio.Event()
    seen: list[httpx.Request] = []

    async def slow_source(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/trial":
            asked.set()
            await answer.wait()
        return httpx.Response(200)

    client = _client(slow_source, wait=wait_none(), breaker=breaker)
    # given the trial call under way
    trial = asyncio.create_task(client.request("GET", "/trial"))
    await asked.wait()
    # when another request comes meanwhile, it is refused without a call
    with pytest.raises(BreakerOpen, match="trial call under way"):
        await client.request("GET", "/other")
    answer.set()
    # and once the trial has succeeded the breaker is closed
    assert (await trial).status_code == 200
    assert [r.url.path for r in seen] == ["/trial"]
    assert breaker.state is BreakerState.CLOSED


async def test_a_trial_refused_as_a_bad_request_leaves_the_next_call_the_trial() -> None:
    now = [1000.0]
    breaker = _breaker(threshold=3, now=now)
    breaker.state, breaker.opened_at = BreakerState.OPEN, now[0]
    now[0] += 31
    handler, seen = _sequence(httpx.Response(404), httpx.Response(200))
    client = _client(handler, wait=wait_none(), breaker=breaker)
    with pytest.raises(SourceRequestRejected):
        await client.request("GET", "/x")
    assert breaker.state is BreakerState.HALF_OPEN
    assert (await client.request("GET", "/x")).status_code == 200
    assert len(seen) == 2 and breaker.state is BreakerState.CLOSED


async def test_bearer_token_is_sent() -> None:
    handler, seen = _sequence(httpx.Response(200))
    await _client(handler, auth=BearerToken("t0k")).request("GET", "/x")
    assert seen[0].headers["Authorization"] == "Bearer t0k"


async def test_hmac_signature_covers_the_canonical_query() -> None:
    handler, seen = _sequence(httpx.Response(200))
    signer = HmacSigner("app", "secret", clock=lambda: 1_700_000_000.0)
    await _client(handler, auth=signer).request("GET", "/cases", params={"limit": "5"})
    params = dict(seen[0].url.params)
    sign = params.pop("sign")
    assert params["timestamp"] == "1700000000000"
    assert sign == signer.sign(params)
    assert canonical_query({"b": "2", "a": "x y"}) == "a=x%20y&b=2"


async def test_oauth_token_is_cached_then_refreshed_on_401() -> None:
    tokens: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            tokens.append(f"tok{len(tokens)}")
            return httpx.Response(200, json={"access_token": tokens[-1], "expires_in": 300})
        if request.headers["Authorization"] == "Bearer tok0" and len(tokens) == 1:
            return httpx.Response(401) if request.url.path == "/expired" else httpx.Response(200)
        return httpx.Response(200)

    auth = OAuthClientCredentials(SourceSystem.COURT, "/oauth/token", "id", "secret")
    client = _client(handler, auth=auth)
    await client.request("GET", "/a")
    await client.request("GET", "/b")
    assert tokens == ["tok0"]  # cached across calls
    await client.request("GET", "/expired")
    assert tokens == ["tok0", "tok1"]  # refreshed after a 401


async def test_refused_credentials_are_an_auth_error() -> None:
    handler, seen = _sequence(httpx.Response(401))
    with pytest.raises(SourceAuthError):
        await _client(handler, auth=BearerToken("bad")).request("GET", "/x")
    assert len(seen) == 1


async def test_a_custom_check_runs_inside_the_retry_loop() -> None:
    def check(response: httpx.Response, who: SourceSystem) -> None:
        if response.status_code == 500 and b"Fault" in response.content:
            raise SourceRequestRejected(who, "fault")  # a body-level error: never retried
        if response.status_code == 500:
            raise SourceServerError(who, "server error 500")

    handler, seen = _sequence(
        httpx.Response(500), httpx.Response(200), httpx.Response(500, content=b"<Fault/>")
    )
    client = _client(handler, wait=wait_none())
    assert (await client.request("POST", "/soap", check=check)).status_code == 200
    assert len(seen) == 2  # the bare 500 was retried
    with pytest.raises(SourceRequestRejected):
        await client.request("POST", "/soap", check=check)
    assert len(seen) == 3  # the fault was not
