"""The work a run expects (DetailPlan) and its pace (RateMeter), without a crawl."""

from __future__ import annotations

import pytest

from certis_scraper.workplan import DetailPlan, RateMeter


def plan(**overrides: object) -> DetailPlan:
    values: dict[str, object] = {
        "mode": "missing",
        "fetch_details": True,
        "refresh": 0,
        "site_total": 5800,
        "stored_live": 0,
        "live_with_details": 0,
        "planned_cards": 5800,
    }
    values.update(overrides)
    return DetailPlan.of(**values)  # type: ignore[arg-type]


def test_a_first_crawl_plans_every_product_of_the_site() -> None:
    # The demo's case: the ETA counted 1,636 detail pages found so far instead of 5,800.
    first = plan()
    assert (first.known, first.new) == (0, 5800)
    assert first.expected(requested=1636, cards_to_come=(484 - 137) * 12) == 5800


def test_missing_mode_plans_stored_products_without_details_then_new_ones() -> None:
    later = plan(stored_live=5790, live_with_details=5700, planned_cards=24)
    assert (later.known, later.new) == (90, 10)
    # Listing pages fewer than the products missing: at most their cards are new.
    assert plan(stored_live=0, planned_cards=600).new == 600


def test_the_refresh_adds_the_stalest_details_but_never_more_than_are_stored() -> None:
    assert (
        plan(stored_live=5800, live_with_details=5800, refresh=500, planned_cards=16).total == 500
    )
    assert plan(stored_live=100, live_with_details=30, refresh=500, planned_cards=0).known == 100


def test_full_mode_plans_every_product_on_the_walked_pages() -> None:
    full = plan(mode="full", stored_live=5800, live_with_details=5800, refresh=500)
    assert (full.known, full.new) == (0, 5800)
    assert plan(mode="full", planned_cards=120).total == 120


def test_reconcile_plans_the_products_without_details_among_those_listed() -> None:
    walk = plan(mode="reconcile", stored_live=5800, live_with_details=5750, refresh=20)
    assert (walk.known, walk.new) == (20, 50)


def test_without_details_nothing_is_planned() -> None:
    assert plan(fetch_details=False).total == 0


def test_the_plan_is_refined_as_listing_pages_arrive() -> None:
    first = plan(site_total=120, planned_cards=120)
    # Fewer new products than planned were found: the pages still to come bound the rest.
    assert first.expected(requested=50, cards_to_come=24) == 74
    # Every page in: what was requested is the plan.
    assert first.expected(requested=110, cards_to_come=0) == 110
    # More than planned (products certified meanwhile): never less than requested.
    assert first.expected(requested=130, cards_to_come=12) == 130


def test_known_and_new_detail_pages_requested_in_any_order() -> None:
    later = DetailPlan(known=60, new=13)
    # The status pages' 13 new products before the backlog: 13 requested, one page to come.
    assert later.expected(requested=13, cards_to_come=12) == 73
    # The backlog before them, then the new ones.
    assert later.expected(requested=60, cards_to_come=25) == 73
    assert later.expected(requested=73, cards_to_come=12) == 73
    # Only status pages planned, the backlog not requested yet: it is still expected.
    assert DetailPlan(known=100, new=0).expected(requested=0, cards_to_come=0) == 100


def test_rate_meter_measures_the_recent_pace() -> None:
    meter = RateMeter(window=10)
    assert meter.rate() is None and meter.eta(5) is None
    meter.add(0.0, 0)
    meter.add(5.0, 50)
    assert meter.rate() == pytest.approx(10.0)
    assert meter.eta(100) == pytest.approx(10.0)
    assert meter.eta(0) == 0.0
    # Slower lately: the window forgets the fast start.
    meter.add(15.0, 60)
    meter.add(25.0, 70)
    assert meter.rate() == pytest.approx(1.0)


def test_rate_meter_without_progress_has_no_eta() -> None:
    meter = RateMeter()
    meter.add(0.0, 10)
    meter.add(3.0, 10)
    assert meter.rate() == 0.0
    assert meter.eta(5) is None
