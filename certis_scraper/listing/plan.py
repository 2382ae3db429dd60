"""What a `matter_list` run fetches, decided once the listing's size is known: the listing pages
(in priority order), the detail pages asked for whatever the listing shows, and how many detail
pages the run expects in all (the progress's plan)."""

from __future__ import annotations

import logging

from certis_scraper.analysis import analyze
from certis_scraper.config import CrawlSettings
from certis_scraper.params import MatterListArgs
from certis_scraper.positions import ListingSize
from certis_scraper.store import Store, StoreError
from certis_scraper.workplan import DetailPlan

logger = logging.getLogger(__name__)


def plan_pages(
    args: MatterListArgs, conf: CrawlSettings, store: Store, size: ListingSize
) -> tuple[list[int], list[str] | None]:
    """The site pages this run fetches, in priority order, and the stored products without
    details when the analysis listed them (missing mode)."""
    existing = range(1, size.total_pages + 1)
    missing_details = None
    if args.pages is not None:
        plan = [p for p in args.pages if p in existing]
        skipped = len(args.pages) - len(plan)
        if skipped:
            logger.warning("%d requested pages are beyond the site's %d", skipped, len(existing))
    elif args.mode in ("full", "reconcile"):
        plan = list(existing)
    else:
        analysis = analyze(store, size)
        logger.info(
            "Analysis: strategy %s, %d missing pages, %d incomplete page_ids, "
            "%d products without details",
            analysis.collection_strategy.value,
            len(analysis.missing_pages),
            len(analysis.incomplete_pages),
            len(analysis.missing_products),
        )
        for warning in analysis.drift_warnings():
            logger.warning("Drift: %s", warning)
        plan = list(analysis.priority_pages)
        missing_details = list(analysis.missing_products)
    if conf.max_pages:
        plan = plan[: conf.max_pages]
    return plan, missing_details


def detail_backlog(
    args: MatterListArgs,
    conf: CrawlSettings,
    store: Store,
    refresh: int,
    missing_details: list[str] | None,
) -> list[str]:
    """Detail pages to fetch whatever the listing shows: stored products still without details
    (missing mode; a walk finds them on the listing) and the `refresh` stalest."""
    if not conf.fetch_details:
        return []
    backlog: list[str] = []
    if args.mode == "missing":
        backlog = missing_details if missing_details is not None else store.urls_without_details()
    if args.mode != "full":
        stalest = store.stalest_details(refresh)
        if stalest:
            logger.info("Refreshing the %d detail pages fetched longest ago", len(stalest))
        backlog = [*backlog, *stalest]
    return backlog


def detail_plan(
    args: MatterListArgs,
    conf: CrawlSettings,
    store: Store,
    size: ListingSize,
    *,
    refresh: int,
    pages: set[int],
) -> DetailPlan | None:
    """Detail pages the run expects, from the listing's size, the planned listing `pages` and
    the store; None when the store cannot say (then only the detail requests made count)."""
    try:
        live = store.counts()["live"]
        with_details = store.live_with_details()
    except StoreError as exc:
        logger.warning("No detail plan (counting only detail requests made): %s", exc)
        return None
    return DetailPlan.of(
        mode=args.mode,
        fetch_details=conf.fetch_details,
        refresh=refresh,
        site_total=size.total,
        stored_live=live,
        live_with_details=with_details,
        planned_cards=sum(size.cards_on_site_page(p) for p in pages),
    )
