"""Log in to Braintrust before anything is uploaded, and say in one line why that failed.

The SDK logs in lazily, on its background thread's first flush, and prints every
failed attempt's traceback to stderr. Logging in first, on this thread, means a bad
key or an unreachable server stops the command before a single record is queued.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit


class BraintrustUnavailable(Exception):
    """Braintrust could not be reached or refused us; the message says what to check."""


def connect() -> None:
    """Log in with BRAINTRUST_API_KEY (and BRAINTRUST_APP_URL when set), or raise."""
    import braintrust

    try:
        braintrust.login()
    except Exception as e:  # the SDK raises ValueError, its own API errors, requests errors
        raise BraintrustUnavailable(describe_failure(e)) from e


def describe_failure(error: BaseException) -> str:
    """One sentence naming what failed: the key, the server's answer, or the connection."""
    from braintrust.api import BraintrustHTTPError, BraintrustTransportError

    for cause in _causes(error):
        if isinstance(cause, BraintrustHTTPError):
            where = _origin(cause.url)
            if cause.status_code in (401, 403):
                return (
                    f"Braintrust at {where} refused the API key (HTTP {cause.status_code}); "
                    "check BRAINTRUST_API_KEY"
                )
            return f"Braintrust at {where} answered HTTP {cause.status_code}; try again later"
        if isinstance(cause, BraintrustTransportError):
            return (
                f"could not reach Braintrust at {_origin(cause.url)}: {_reason(cause)}; "
                "check the network connection and BRAINTRUST_APP_URL"
            )
    return f"upload to Braintrust failed ({error})"


def _causes(error: BaseException) -> Iterator[BaseException]:
    # Exceptions chained by `raise from`, by handling, and by urllib3's `reason`
    # and requests' wrapped argument, each once, outermost first.
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += [arg for arg in current.args if isinstance(arg, BaseException)]
        pending += [item for item in linked if isinstance(item, BaseException)]


def _reason(error: BaseException) -> str:
    import requests

    for cause in _causes(error):
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        if isinstance(cause, requests.exceptions.Timeout):
            return "timed out"
    return str(error)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url
