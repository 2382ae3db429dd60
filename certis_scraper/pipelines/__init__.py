"""Item pipelines: validate (100) -> merge by URL (200) -> store (300), one per module."""
