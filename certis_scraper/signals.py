"""Custom signals the spider sends and the progress extension turns into stats, logs and events.

Keyword arguments of each signal are given beside it.
"""

stage_started = object()  # stage: str, planned: int
stage_completed = object()  # stage: str, done: int, failed: int
page_completed = object()  # page: int, cards: int, expected: int, attempt: int
page_failed = object()  # page: int, reason: str, attempt: int, final: bool
detail_completed = object()  # url: str
detail_failed = object()  # url: str, reason: str, final: bool
retry_started = object()  # round: int, pages: list[int], details: int, delay: float
planned = object()  # pages: int, details: int  (added to what the run plans)
# A page answered and read whole; `known` is False when it shows nothing the parser reads (a
# detail page with a title at most, a listing page with pagination and no product card).
page_read = object()  # kind: str ("listing" or "detail"), url: str, known: bool
