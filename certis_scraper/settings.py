# Scrapy settings for certis_scraper: only what differs from Scrapy's defaults, each with why.
# https://docs.scrapy.org/en/latest/topics/settings.html
# Every CERTIS_* setting can also be given as an environment variable of the same name (a `-s`
# option wins over it); config.CrawlSettings validates them all, whichever way they come.

import os

from certis_scraper.config import from_environment
from certis_scraper.site import LIVE_LISTING_URL

BOT_NAME = "certis_scraper"
SPIDER_MODULES = ["certis_scraper.spiders"]
NEWSPIDER_MODULE = "certis_scraper.spiders"
# Project commands: status, analyze, export, simsite, demo, and a `crawl` that exits non-zero
# when the run failed (site unreachable, blocked, database unusable or locked by another crawl).
COMMANDS_MODULE = "certis_scraper.commands"

# --- What to crawl and where to keep it -------------------------------------------------------
# The filtered listing (Matter end products, newest first). Tests point it at the simulator.
CERTIS_LISTING_URL = LIVE_LISTING_URL
# The SQLite database; under scrapyd give an absolute path (scrapyd's working directory moves).
CERTIS_DB = "certis.db"
# At most this many listing pages per run (0 = no limit); the analyzer's priority order decides.
CERTIS_MAX_PAGES = 0
# Fetch detail pages of products that have none yet (and all of them with mode=full).
CERTIS_DETAILS = True
# Every run also re-reads this many detail pages, those fetched longest ago (`-a refresh=N`
# for one run): 500 a day cycles through the whole site in under two weeks.
CERTIS_REFRESH = 0
# The Matter Distributed Compliance Ledger (`scrapy crawl dcl`): its base URL (the main net; tests
# point it at the simulator), and the entries asked per page of its lists (`pagination.limit`).
CERTIS_DCL_URL = "https://on.dcl.csa-iot.org"
CERTIS_DCL_PAGE_SIZE = 500
# JSON-lines progress events (stage_started, page_completed, ..., finished); empty = none.
CERTIS_PROGRESS_FILE = ""
# Seconds between progress log lines and `progress` events. On a terminal the progress bar
# (redrawn 4 times a second) replaces the log line; under scrapyd, or with stderr not a terminal
# or the log in a file (LOG_FILE), the log line is written.
CERTIS_PROGRESS_INTERVAL = 10.0
# A bad page (short of cards, truncated, no details) is requested again up to this many times.
CERTIS_INCOMPLETE_RETRIES = 3
# Pages and details still failing when the spider goes idle get this many retry rounds, each
# after a capped exponential backoff (base * 2**round, at most max seconds).
CERTIS_RETRY_ROUNDS = 3
CERTIS_RETRY_BACKOFF_BASE = 5.0
CERTIS_RETRY_BACKOFF_MAX = 60.0
# The run stops as "site_unreachable" after this many download errors in a row (no answer at all).
CERTIS_UNREACHABLE_AFTER = 10
# Longest Retry-After (seconds) honoured on 429/503; longer values are capped to it.
CERTIS_RETRY_AFTER_MAX = 120.0
# Seconds a write waits for another writer to release the database before giving up.
CERTIS_DB_BUSY_TIMEOUT = 10.0
# Items written per database transaction; also flushed when the spider is idle and on close.
CERTIS_BATCH_SIZE = 200
# Allocations between young garbage collections while crawling, start-up objects frozen
# (extensions/gc_tuning.py); 0 leaves Python's collector as it is (700).
CERTIS_GC_THRESHOLD = 10_000

# --- Politeness towards the live site (tests and benchmarks override these) --------------------
# Identify the crawler; add your own contact (an email or URL) when you run it against the site.
USER_AGENT = "certis_scraper/0.1 (Matter certified-products mirror)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
# Scrapy starts CONCURRENT_ITEMS asyncio worker tasks (default 100) for every response's output,
# even a detail page's one item. The pipelines here are synchronous, so running items side by
# side gains nothing and each extra worker costs CPU on every page: one worker.
CONCURRENT_ITEMS = 1
# Listing and detail pages are ~50-150 kB; anything near this is not a page of this site.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote-control HTTP server runs code sent to it: never on for this crawler.
REMOTE_CONTROL_ENABLED = False

# --- Retries: 408/429/5xx are passing troubles; 401/403 (blocked) and 404 (gone) are not ----
RETRY_ENABLED = True
RETRY_TIMES = 5
RETRY_HTTP_CODES = [408, 429, 500, 502, 503, 504, 522, 524]
# A bad page's re-ask (retry.py) carries RetryMiddleware's count of download retries on purpose:
# Scrapy's check for meta copied from a response is told so.
META_COPY_WARN_SKIP_KEYS = ["retry_times"]

# --- Components ---------------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Ends the run on 401/403 or too many download errors in a row; below RetryMiddleware (550)
    # so it sees only what Scrapy's retries gave up on.
    "certis_scraper.middlewares.site_guard.SiteGuard": 540,
    # The one place that waits: Retry-After (read before RetryMiddleware re-queues), backoff of
    # bad pages and of retry rounds.
    "certis_scraper.middlewares.wait.WaitMiddleware": 560,
}
ITEM_PIPELINES = {
    "certis_scraper.pipelines.validate.ValidationPipeline": 100,
    "certis_scraper.pipelines.store.StorePipeline": 300,
}
EXTENSIONS = {
    # The run's lifecycle first (lock, database, run record): the others rely on it.
    "certis_scraper.extensions.run_store.RunStore": 100,
    # Ends the run when the pages no longer show what the parser reads (a new layout).
    "certis_scraper.extensions.layout_watch.LayoutWatch": 200,
    "certis_scraper.extensions.progress.CrawlProgress": 500,
    "certis_scraper.extensions.gc_tuning.GcTuning": 900,
}
# Scrapy's LogStats ("Crawled N pages (at N pages/min)") is off: CrawlProgress reports the same
# pace with what is planned and the ETA, and two periodic reports only repeat each other.
LOGSTATS_INTERVAL = 0
# Scrapy's check that a generator callback returns no value re-reads and parses the callback's
# source for every response (its cache is keyed by the bound method, new with each request).
# tests/spiders/test_callbacks.py makes the same check once.
WARN_ON_GENERATOR_RETURN_VALUE = False
# Scrapy's messages; its per-page DEBUG lines are not built unless LOG_LEVEL is DEBUG.
LOG_FORMATTER = "certis_scraper.logformatter.PageLogFormatter"

# Feeds (`-O products.json`): UTF-8, one record per product (its card and its detail page paired
# by URL, feeds.py), the same columns in every record. CSV feeds also show ids in hex, neutralise
# cells a spreadsheet would run as a formula, and join lists with "; ".
FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORTERS = {
    "csv": "certis_scraper.feeds.ProductCsvExporter",
    "json": "certis_scraper.feeds.ProductJsonExporter",
    "jsonlines": "certis_scraper.feeds.ProductJsonLinesExporter",
    "jsonl": "certis_scraper.feeds.ProductJsonLinesExporter",
}
LOG_LEVEL = os.environ.get("CERTIS_LOG_LEVEL", "INFO")

# The environment's CERTIS_* values, as text: they replace the defaults above.
globals().update(from_environment(globals()))
