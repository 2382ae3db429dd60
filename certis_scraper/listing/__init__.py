"""The listing stage's bookkeeping, apart from crawling: where each card belongs (tracker), which
pages are planned, done, short or failed (collector), and what to fetch again after the site moved
under the crawl (recheck). Plain objects, unit-tested without a crawler."""
