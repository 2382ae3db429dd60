"""Stage 4 end to end: detail pages stored equal to the simulator's ground truth, changes
recorded, permanent failures left for the next run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crawl_helpers import crawl, rows

LIST_FIELDS = ("transport_interface", "primary_device_type_id", "application_categories")


def stored_details(db: Path) -> dict[str, dict[str, Any]]:
    result = {}
    for row in rows(db, "SELECT * FROM product_details"):
        for field in LIST_FIELDS:
            if row[field] is not None:
                row[field] = json.loads(row[field])
        if row["tis_trp_tested"] is not None:
            row["tis_trp_tested"] = bool(row["tis_trp_tested"])
        result[row["url"]] = row
    return result


def test_details_equal_the_ground_truth_for_every_product(
    make_sim: Any, tmp_path: Path
) -> None:
    server = make_sim(products=150, seed=4)
    db = tmp_path / "certis.db"
    result = crawl(server.listing_url, db)
    assert result.returncode == 0, result.log[-3000:]
    details = stored_details(db)
    truth = {t["url"]: t["details"] for t in server.site.truth()}
    assert set(details) == set(truth)
    for url, expected in truth.items():
        for field, value in expected.items():
            assert details[url][field] == value, (url, field, details[url][field], value)
    vendors = rows(db, "SELECT vid, product_count FROM vendors")
    vids = [d["vid"] for d in truth.values() if d.get("vid") is not None]
    assert {v["vid"] for v in vendors} == set(vids)
    assert sum(v["product_count"] for v in vendors) == len(vids)


def test_firmware_update_then_full_mode_records_one_change(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    assert crawl(sim.listing_url, db).returncode == 0
    target = sim.site.truth()[17]["url"]
    old = sim.site.truth()[17]["details"]["firmware_version"]
    new = sim.site.update_product(target)["details"]["firmware_version"]
    assert new != old
    sim.site.clear_log()
    result = crawl(sim.listing_url, db, "mode=full")
    assert result.returncode == 0, result.log[-3000:]
    assert sim.site.stats()["by_kind"]["detail"] == 60  # full mode refreshes every detail
    changes = rows(db, "SELECT url, field, old_value, new_value FROM product_changes")
    assert changes == [
        {"url": target, "field": "firmware_version", "old_value": old, "new_value": new}
    ]
    assert stored_details(db)[target]["firmware_version"] == new


def test_detail_failing_permanently_is_fetched_by_the_next_run(sim: Any, tmp_path: Path) -> None:
    victim = sim.site.truth()[5]["url"]
    path = "/" + victim.split("//", 1)[1].split("/", 1)[1]
    sim.site.set_faults({"error": [path]})
    db = tmp_path / "certis.db"
    result = crawl(sim.listing_url, db, settings={"RETRY_TIMES": "1", "CERTIS_RETRY_ROUNDS": "1"})
    assert result.returncode == 0, result.log[-3000:]
    assert victim not in stored_details(db)
    run = json.loads(rows(db, "SELECT stats FROM crawl_runs")[-1]["stats"])
    assert run["details_failed"] == [victim]
    sim.site.set_faults({})
    sim.site.clear_log()
    assert crawl(sim.listing_url, db).returncode == 0
    assert sim.site.stats()["by_kind"]["detail"] == 1
    assert sim.site.stats()["by_url"][path] == 1
    assert victim in stored_details(db)


def test_details_off(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    result = crawl(sim.listing_url, db, settings={"CERTIS_DETAILS": "0"})
    assert result.returncode == 0, result.log[-3000:]
    assert sim.site.stats()["by_kind"]["detail"] == 0
    assert rows(db, "SELECT count(*) AS n FROM product_details")[0]["n"] == 0


def test_invalid_detail_is_dropped_counted_and_still_missing(sim: Any, tmp_path: Path) -> None:
    victim = sim.site.truth()[9]["url"]
    sim.site.update_product(victim, firmware_version="v" * 2500)  # longer than any real value
    db = tmp_path / "certis.db"
    result = crawl(sim.listing_url, db)
    assert result.returncode == 0, result.log[-3000:]
    assert f"invalid detail {victim}: firmware_version" in result.log
    assert result.stat("certis/invalid/detail/firmware_version") == 1
    assert victim not in stored_details(db)
    analyzed = crawl(sim.listing_url, db)  # the next run asks for it again
    assert analyzed.returncode == 0
    assert sim.site.stats()["by_url"]["/" + victim.split("//", 1)[1].split("/", 1)[1]] == 2
