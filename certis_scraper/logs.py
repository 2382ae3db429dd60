"""Network failures are part of a crawl's life, not bugs: log them as one line, no traceback."""

from __future__ import annotations

import logging

from twisted.internet import error as twisted_errors

# Errors that mean "the site did not answer"; anything else keeps its traceback.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    twisted_errors.ConnectError,
    twisted_errors.ConnectionLost,
    twisted_errors.ConnectionDone,
    twisted_errors.DNSLookupError,
    twisted_errors.TimeoutError,
    TimeoutError,
    ConnectionError,
)

# Scrapy components that log network failures with a traceback.
NOISY_LOGGERS = (
    "scrapy.downloadermiddlewares.robotstxt",
    "scrapy.core.scraper",
    "scrapy.core.engine",
)


class OneLineNetworkErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None and not isinstance(exc, NETWORK_ERRORS):
            exc = exc.__cause__ or exc.__context__
        if exc is not None:
            record.exc_info = None
            record.exc_text = None
        return True


_FILTER = OneLineNetworkErrors()


def install() -> None:
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
