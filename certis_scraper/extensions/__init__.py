"""Scrapy extensions: the run's lifecycle (run_store) and its progress reports (progress)."""
