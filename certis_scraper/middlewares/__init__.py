"""Downloader middlewares: what Scrapy's own lack for this site (one component per module)."""
