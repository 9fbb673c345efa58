"""What the app makes of a 429 whose wait a proxy changed: the backend sends Retry-After in
seconds; a proxy may drop it or send the HTTP-date form (RFC 9110). The user must still learn
how long to wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from pooldesk.core.backend_client import ApiError, BackendClient
from pooldesk.core.failures import Code, failure

BODY = {
    "ok": False,
    "error": {
        "code": "rate_limited",
        "message": "Too many failed attempts; try again in 900 seconds",
        "reason": "too_many_attempts",
    },
}


def _refusal(headers: dict[str, str]) -> ApiError:
    answer = httpx.Response(429, json=BODY, headers=headers)
    with pytest.raises(ApiError) as refused:
        BackendClient._result(answer)
    return refused.value


def test_a_wait_in_seconds_is_counted_down_in_the_apps_words():
    refused = _refusal({"Retry-After": "900"})
    assert refused.retry_after == 900
    assert refused.failure == failure(Code.TOO_MANY_ATTEMPTS)


def test_a_wait_given_as_a_date_is_read_as_the_seconds_until_then():
    then = datetime.now(UTC) + timedelta(seconds=600)
    refused = _refusal({"Retry-After": format_datetime(then, usegmt=True)})
    assert refused.retry_after is not None
    assert 590 <= refused.retry_after <= 601
    assert refused.failure == failure(Code.TOO_MANY_ATTEMPTS)


@pytest.mark.parametrize("headers", [{}, {"Retry-After": "soon"}])
def test_a_wait_the_app_cannot_read_keeps_the_servers_sentence_that_says_it(headers):
    refused = _refusal(headers)
    assert refused.retry_after is None
    assert refused.failure.code is Code.SERVER_SAID
    assert "try again in 900 seconds" in str(refused.failure)
