"""The `matter_list` spider's components: where each card belongs (tracker), which listing pages
are planned, done, short or failed (collector), the run's books and figures (books), what a run
fetches (plan), the listing pages read outside the callbacks (fetcher), what to fetch again after
the site moved under the crawl (recheck), and the idle-time retry rounds (rounds)."""
