"""Item pipelines: validate (100) -> merge by URL and store (300), one per module."""
