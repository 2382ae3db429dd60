"""The simulated listing's certification dates run up to the site's "today"."""

from __future__ import annotations

from datetime import date, timedelta

from certis_scraper.simsite import SimSite


def _dates(site: SimSite) -> list[date]:
    return [
        date.fromisoformat(row["details"]["certification_date"])
        for row in site.truth()
        if row["details"]["certification_date"]
    ]


def test_dates_end_at_the_fixed_today_and_stay_the_same() -> None:
    today = date(2026, 12, 3)
    site = SimSite(products=400, seed=3, today=today)
    dates = _dates(site)
    assert max(dates) <= today
    assert today - max(dates) < timedelta(days=5)
    assert min(dates) == date(2022, 10, 3)
    assert site.truth() == SimSite(products=400, seed=3, today=today).truth()


def test_added_products_are_dated_today_or_later() -> None:
    site = SimSite(products=50, seed=1, today=date(2026, 1, 15))
    added = site.add_products(2)
    assert all(row["details"]["certification_date"] >= "2026-01-15" for row in added)


def test_default_today_is_the_current_date() -> None:
    site = SimSite(products=500, seed=2)
    assert date.today() - max(_dates(site)) <= timedelta(days=4)
