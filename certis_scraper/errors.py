"""One line for a download error: its class and message (or HTTP status), without a traceback."""

from __future__ import annotations

from scrapy.spidermiddlewares.httperror import HttpError


def describe_error(error: BaseException | None) -> str:
    if error is None:
        return "unknown error"
    if isinstance(error, HttpError) and error.response is not None:
        return f"HTTP {error.response.status}"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    name = type(error).__name__
    return f"{name}: {text}" if text else name
