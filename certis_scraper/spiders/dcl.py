"""`scrapy crawl dcl`: the Matter Distributed Compliance Ledger into the same database.

Every run walks the three lists (vendors, models, compliance records) page by page. Then:
- each model whose versions are not all stored yet (every model with `mode=full`) has its
  version list read, and the versions in it the store lacks (all with `mode=full`) are read;
- each version a compliance record names and the store lacks is read (a "not found" is
  recorded, so it is never asked again);
- `-a refresh=N` also re-reads the version lists, and every version in them, of the N models
  read longest ago.

The spider routes: ledger/api.py knows the addresses and answers, ledger/records.py the
records, the LedgerBook what the run did, the pipeline stores, the core (RunStore, SiteGuard,
the retry policy, the progress extension) runs it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from certis_scraper import signals as certis_signals
from certis_scraper.errors import describe_error
from certis_scraper.ledger.api import (
    API_CHANGED_STATUSES,
    LISTS,
    BadAnswer,
    is_not_found,
    ledger_error,
    normalise_base,
    parse_list_page,
    parse_version,
    parse_version_list,
)
from certis_scraper.ledger.book import RECORD_OF_LIST, LedgerBook
from certis_scraper.ledger.outlook import LedgerOutlook
from certis_scraper.ledger.records import (
    AbsentVersion,
    InvalidRecord,
    LedgerRecord,
    ModelVersionRecord,
)
from certis_scraper.ledger.requests import ENDPOINTS, LedgerRequests, page_id
from certis_scraper.ledger.rounds import LedgerRounds
from certis_scraper.params import DclArgs
from certis_scraper.retry import attempts, retry_bad_page
from certis_scraper.spiders.base import ProjectSpider
from certis_scraper.store.ledger import ModelKey, VersionKey

logger = logging.getLogger(__name__)


class DclSpider(ProjectSpider[DclArgs]):
    name = "dcl"
    args_model = DclArgs
    custom_settings = {
        "ITEM_PIPELINES": {"certis_scraper.pipelines.ledger.LedgerStorePipeline": 300},
        "FEED_EXPORTERS": {
            "csv": "certis_scraper.feeds.LedgerCsvExporter",
            "json": "certis_scraper.feeds.LedgerJsonExporter",
            "jsonlines": "certis_scraper.feeds.LedgerJsonLinesExporter",
            "jsonl": "certis_scraper.feeds.LedgerJsonLinesExporter",
        },
    }
    base: str  # the ledger's base URL
    requests: LedgerRequests
    book: LedgerBook  # set by start(), as the rounds
    rounds: LedgerRounds

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.base = normalise_base(spider.conf.dcl_url)
        spider.requests = LedgerRequests(
            spider.base,
            spider.conf.dcl_page_size,
            parse_list=spider.parse_list,
            parse_version_list=spider.parse_version_list,
            parse_version=spider.parse_version,
            on_error=spider.on_error,
        )
        return spider

    # --- start: the ledger this database mirrors, the plan -------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        run = self.open_run()
        if run is None:
            return
        mirrored = run.store.bind_ledger(self.base)
        if mirrored != self.base:
            self.fail(
                "other_ledger",
                f"database {self.conf.db_path} mirrors the ledger {mirrored}, not {self.base}:"
                " give CERTIS_DB another database for another ledger",
            )
            return
        self.book = book = LedgerBook(self.args.mode, self.conf.dcl_page_size)
        run.keep(book)
        self.rounds = LedgerRounds(self.crawler, self.conf, run, book)
        stalest = run.store.stalest_models(self.args.refresh) if self.args.mode != "full" else []
        if stalest:
            logger.info("Re-reading the versions of the %d models read longest ago", len(stalest))
        self.emit(certis_signals.planned, pages=len(LISTS), details=0)
        self.emit(
            certis_signals.stage_started,
            stage="ledger",
            planned=len(LISTS),
            work=LedgerOutlook.of(book, run.store, refresh=len(stalest)),
        )
        for endpoint in LISTS:
            yield self.requests.list_page(endpoint)
        for request in self.version_list_requests(stalest, reread=True):
            yield request

    # --- the three lists -----------------------------------------------------------------------

    def parse_list(self, response: Response) -> Iterator[Any]:
        endpoint = ENDPOINTS[response.meta["dcl_list"]]
        if self.refused(response):
            return
        try:
            if response.status != 200:
                raise BadAnswer(f"HTTP {response.status}")
            page = parse_list_page(response.body, endpoint)
        except BadAnswer as exc:
            yield from self.bad_answer(response, str(exc))
            return
        records = self.records(RECORD_OF_LIST[endpoint.name], page.entries)
        book = self.book
        before = book.pages_expected(endpoint.name)
        keys = [r.key for r in records]
        after = book.list_page(endpoint.name, keys, page.total, last=page.next_key is None)
        if after > before:
            self.emit(certis_signals.planned, pages=after - before, details=0)
        self.succeeded(response, count=len(records))
        yield from records
        if endpoint.name == "models":
            yield from self.version_list_requests(self.models_to_read(keys))
        elif endpoint.name == "compliance":
            yield from self.version_requests(self.versions_lacking([k[:3] for k in keys]))
        if page.next_key is not None:
            yield self.requests.list_page(endpoint, page.next_key, response.meta["dcl_page"] + 1)

    def records(self, record_type: type[LedgerRecord], entries: list[Any]) -> list[Any]:
        records = []
        for entry in entries:
            try:
                records.append(record_type.from_entry(entry))
            except InvalidRecord as exc:
                self.book.invalid += 1
                assert self.crawler.stats is not None
                self.crawler.stats.inc_value(f"certis/invalid/{record_type.record}")
                logger.warning("Ledger record not stored: %s", exc)
        return records

    def models_to_read(self, models: list[Any]) -> list[ModelKey]:
        """Models whose version list this run reads: all with mode=full, else the unfinished."""
        keys: list[ModelKey] = [(int(m[0]), int(m[1])) for m in models]
        if self.args.mode == "full":
            return keys
        done = self.run.store.models_read(keys)
        return [m for m in keys if m not in done]

    def versions_lacking(self, versions: list[Any]) -> list[VersionKey]:
        keys: list[VersionKey] = [(int(v[0]), int(v[1]), int(v[2])) for v in versions]
        known = self.run.store.versions_known(keys)
        return [v for v in keys if v not in known]

    # --- version lists and versions -----------------------------------------------------------

    def version_list_requests(
        self, models: Iterable[ModelKey], *, reread: bool = False
    ) -> Iterator[Request]:
        planned = self.book.plan_lists(list(models))
        if planned:
            self.emit(certis_signals.planned, pages=0, details=len(planned))
        for vid, pid in planned:
            yield self.requests.version_list(vid, pid, reread=reread)

    def parse_version_list(self, response: Response) -> Iterator[Any]:
        model: ModelKey = response.meta["dcl_model"]
        if self.refused(response):
            return
        try:
            if is_not_found(response.status, response.body):
                versions: list[int] = []  # a model with no versions
            elif response.status != 200:
                raise BadAnswer(f"HTTP {response.status}")
            else:
                versions = parse_version_list(response.body)
        except BadAnswer as exc:
            yield from self.bad_answer(response, str(exc))
            return
        self.succeeded(response)
        keys = [(*model, sv) for sv in versions]
        if self.args.mode == "full" or response.meta["dcl_reread"]:
            wanted = keys
        else:
            known = self.run.store.versions_known(keys)
            wanted = [k for k in keys if k not in known]
        self.book.version_list_read(model, versions, [k[2] for k in wanted])
        yield from self.version_requests(wanted)

    def version_requests(self, versions: list[VersionKey]) -> Iterator[Request]:
        planned = self.book.plan_versions(versions)
        if planned:
            self.emit(certis_signals.planned, pages=0, details=len(planned))
        for vid, pid, sv in planned:
            yield self.requests.version(vid, pid, sv)

    def parse_version(self, response: Response) -> Iterator[Any]:
        key: VersionKey = response.meta["dcl_version"]
        if self.refused(response):
            return
        if is_not_found(response.status, response.body):
            self.succeeded(response)
            yield AbsentVersion(vid=key[0], pid=key[1], software_version=key[2])
            return
        try:
            if response.status != 200:
                raise BadAnswer(f"HTTP {response.status}")
            record = ModelVersionRecord.from_entry(parse_version(response.body))
            if record.key != key:
                raise BadAnswer(f"the answer is version {record.key}")
        except (BadAnswer, InvalidRecord) as exc:
            yield from self.bad_answer(response, str(exc))
            return
        self.succeeded(response)
        yield record

    # --- answers that are not the expected JSON, failures, refusals -----------------------------

    def refused(self, response: Response) -> bool:
        """A 400 or 501: the API is not the one this program reads. The run stops."""
        if response.status not in API_CHANGED_STATUSES:
            return False
        _, message = ledger_error(response.body)
        self.fail(
            "ledger_api_changed",
            f"the ledger refused {response.url} (HTTP {response.status}): {message}",
        )
        return True

    def bad_answer(self, response: Response, reason: str) -> Iterator[Request]:
        retry = retry_bad_page(response.request, reason, self.crawler, self.conf)
        if retry is not None:
            yield retry
        elif response.request is not None:
            self.rounds.failed(response.request, reason)

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self.rounds.failed(request, describe_error(failure.value))

    def succeeded(self, response: Response, count: int = 0) -> None:
        self.book.succeed(response.url)
        request = response.request
        page = page_id(request) if request is not None else None
        if request is None or page is None:
            self.emit(certis_signals.detail_completed, url=response.url)
            return
        self.emit(
            certis_signals.page_completed,
            page=page,
            cards=count,
            expected=count,
            attempt=attempts(request),
        )
