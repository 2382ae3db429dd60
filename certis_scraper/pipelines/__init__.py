"""Item pipelines: validate (100) -> drop repeats (200) -> merge by URL and store (300)."""
