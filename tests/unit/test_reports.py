"""Report pieces: the score histogram (bars coloured by verdict, grey zone from the calibration) and the NG gallery."""

from __future__ import annotations

import numpy as np

from engine.calibration import Calibration, grey_zone_normalised
from services.report_charts import (
    CHANGE_RGB,
    HISTOGRAM_MARGIN,
    MEDIAN_RGB,
    TREND_MARGIN,
    VERDICT_RGB,
    histogram_png,
    trend_png,
)
from services.reports import CSV_FIELDS, calibration_label, csv_record, daily_counts, lot_counts, render_html

WIDTH, HEIGHT, BINS = 600, 200, 20


def bar_colours(image: np.ndarray, score: float) -> set[tuple[int, int, int]]:
    """Colours found in the column of ``score``'s bin, above the axis."""
    x = int(HISTOGRAM_MARGIN + (WIDTH - 2 * HISTOGRAM_MARGIN) * (int(score * BINS) + 0.5) / BINS)
    column = image[HISTOGRAM_MARGIN:HEIGHT - HISTOGRAM_MARGIN - 1, x]
    return {tuple(int(v) for v in pixel) for pixel in column}


def test_bars_take_the_stored_verdicts_colour_even_below_the_threshold():
    # 0.36 and 0.39 share a bin; the REVIEW part there must not be drawn as an OK one.
    image = histogram_png([0.10, 0.36, 0.39, 0.92], ["OK", "OK", "REVIEW", "NG"], bins=BINS, width=WIDTH, height=HEIGHT)
    assert VERDICT_RGB["OK"] in bar_colours(image, 0.10)
    assert VERDICT_RGB["REVIEW"] not in bar_colours(image, 0.10)
    shared = bar_colours(image, 0.37)
    assert VERDICT_RGB["OK"] in shared and VERDICT_RGB["REVIEW"] in shared
    assert VERDICT_RGB["NG"] in bar_colours(image, 0.92)


def test_stacked_bar_height_counts_every_part():
    image = histogram_png([0.36, 0.39, 0.91], ["OK", "REVIEW", "NG"], bins=BINS, width=WIDTH, height=HEIGHT)
    x_shared = int(HISTOGRAM_MARGIN + (WIDTH - 2 * HISTOGRAM_MARGIN) * 7.5 / BINS)
    x_single = int(HISTOGRAM_MARGIN + (WIDTH - 2 * HISTOGRAM_MARGIN) * 18.5 / BINS)
    painted = set(VERDICT_RGB.values())
    height_of = {x: sum(tuple(int(v) for v in image[y, x]) in painted for y in range(HEIGHT))
                 for x in (x_shared, x_single)}
    assert abs(height_of[x_shared] - 2 * height_of[x_single]) <= 2


def test_grey_zone_edges_match_the_normalised_grey_zone_of_a_calibration():
    calibration = Calibration(image_threshold=1.0, spread=0.2, pixel_threshold=1.0, pixel_spread=0.1,
                              method="leave-one-out", sample_count=4)
    low, high = calibration.grey_zone()
    assert np.allclose(grey_zone_normalised(), (calibration.normalise(low), calibration.normalise(high)))


def test_the_trend_draws_each_part_in_order_with_its_verdict_the_median_and_the_reference_change():
    scores = [0.2] * 15 + [0.95] + [0.25] * 14
    verdicts = ["OK"] * 15 + ["NG"] + ["OK"] * 14
    banks = [1] * 20 + [2] * 10
    image = trend_png(scores, verdicts, banks, 20, width=WIDTH, height=HEIGHT)
    left, right, top, bottom = TREND_MARGIN, WIDTH - TREND_MARGIN // 2, TREND_MARGIN // 2, HEIGHT - TREND_MARGIN

    def at(index: float, score: float) -> tuple[int, int, int]:
        x = round(left + (right - left) * (index + 0.5) / len(scores))
        return tuple(int(v) for v in image[round(bottom - (bottom - top) * score), x])

    assert at(15, 0.95) == VERDICT_RGB["NG"] and at(0, 0.2) == VERDICT_RGB["OK"]
    x_ng, y_ng = round(left + (right - left) * 15.5 / len(scores)), round(bottom - (bottom - top) * 0.95)
    assert tuple(int(v) for v in image[y_ng + 3, x_ng + 3]) == VERDICT_RGB["NG"]  # NG is a square ...
    x_ok, y_ok = round(left + (right - left) * 0.5 / len(scores)), round(bottom - (bottom - top) * 0.2)
    assert tuple(int(v) for v in image[y_ok + 3, x_ok + 3]) != VERDICT_RGB["OK"]  # ... OK a round dot
    change_column = image[top + 1:bottom, round(left + (right - left) * 20 / len(scores))]
    assert any(tuple(int(v) for v in pixel) == CHANGE_RGB for pixel in change_column)
    # The median of the last 20 runs from 0.2 (parts 0-19) to 0.25 (parts 10-29), over the dots.
    assert at(19, 0.2) == MEDIAN_RGB and at(29, 0.25) == MEDIAN_RGB
    assert at(10, 0.2) != MEDIAN_RGB  # not before a full window
    few = trend_png([0.2] * 5, ["OK"] * 5, [1] * 5, width=WIDTH, height=HEIGHT)
    assert not (few == MEDIAN_RGB).all(axis=-1).any()  # no median before a full window


def project_page(thumbnails: list[dict], ng_total: int, daily: list[dict] | None = None, days_total: int = 0,
                 lots: list[dict] | None = None, lots_total: int = 0) -> str:
    context = {
        "daily": daily or [], "days_total": days_total,
        "lots": lots or [], "lots_total": lots_total, "with_lots": bool(lots),
        "title": "Project report: disc", "project": {"description": ""}, "generated": "now", "since": "the start",
        "until": "now", "rows": [], "total": ng_total, "counts": {"OK": 0, "REVIEW": 0, "NG": ng_total},
        "histogram_uri": None, "thumbnails": thumbnails, "ng_total": ng_total, "calibrations": [],
        "program_version": "test",
    }
    return " ".join(render_html("project.html.j2", context).split())


def test_ng_gallery_captions_each_part_and_says_when_it_shows_only_some():
    shown = [{"id": 7, "score": 0.91, "uri": "data:image/png;base64,AA=="},
             {"id": 9, "score": 1.0, "uri": "data:image/png;base64,AA=="}]
    page = project_page(shown, ng_total=5)
    assert "#7 &middot; score 0.91" in page and "#9 &middot; score 1.00" in page
    assert "The first 2 of 5 NG parts." in page
    assert "The first" not in project_page(shown, ng_total=2)
    assert "no longer in the store" in project_page([], ng_total=3)
    assert "No NG parts." in project_page([], ng_total=0)


def test_daily_counts_give_each_days_verdicts_and_ng_rate_oldest_first_and_the_page_says_when_days_are_left_out():
    from datetime import datetime, timedelta
    from types import SimpleNamespace

    start = datetime(2026, 11, 20, 23, 30)
    rows = [SimpleNamespace(created_at=start + timedelta(minutes=m), verdict=v)
            for m, v in [(0, "OK"), (10, "NG"), (40, "OK"), (50, "REVIEW"), (60, "NG"), (24 * 60 + 45, "OK")]]
    days = daily_counts(rows)
    assert [d["day"] for d in days] == ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert (days[0]["total"], days[0]["OK"], days[0]["NG"]) == (2, 1, 1) and days[0]["ng_percent"] == 50.0
    assert (days[1]["total"], days[1]["REVIEW"], days[1]["NG"]) == (3, 1, 1)
    page = project_page([], 0, daily=days[-2:], days_total=3)
    assert "The last 2 of 3 days with inspections." in page
    assert "<td>2026-11-21</td><td>3</td><td>1</td><td>1</td><td>1</td><td>33.3 %</td>" in page
    assert "Per day" not in project_page([], 0, daily=days[:1], days_total=1)


def test_lot_counts_give_each_lots_verdicts_in_the_order_lots_were_first_inspected():
    from types import SimpleNamespace

    rows = [SimpleNamespace(lot=lot, verdict=verdict) for lot, verdict in
            [("L-9", "OK"), ("L-2", "NG"), ("L-9", "NG"), ("", "OK"), ("L-2", "NG"), ("L-9", "REVIEW")]]
    lots = lot_counts(rows)
    assert [(lot["lot"], lot["total"], lot["OK"], lot["REVIEW"], lot["NG"]) for lot in lots] == [
        ("L-9", 3, 1, 1, 1), ("L-2", 2, 0, 0, 2), ("", 1, 1, 0, 0)]
    assert lots[1]["ng_percent"] == 100.0
    page = project_page([], 0, lots=lots[-2:], lots_total=3)
    assert "<h2>Per lot</h2>" in page and "The last 2 of 3 lots" in page
    assert "<td>L-2</td><td>2</td><td>0</td><td>0</td><td>2</td><td>100.0 %</td>" in page
    assert "<td>(none)</td><td>1</td>" in page and "Per lot" not in project_page([], 0)


def test_times_are_shown_and_days_counted_on_the_workstations_clock(monkeypatch):
    import time
    from datetime import UTC, date, datetime, timedelta
    from types import SimpleNamespace

    from services.local_time import local_day_end, local_day_start, local_text, zone_label

    monkeypatch.setenv("TZ", "CST+06")  # a plant six hours behind UTC, no daylight saving
    time.tzset()
    try:
        night = datetime(2026, 11, 28, 3, 30)  # stored UTC, as SQLite gives it back: 21:30 the evening before
        assert local_text(night) == "2026-11-27 21:30:00" and zone_label() == "UTC-06:00"
        assert local_day_start(date(2026, 11, 28)) == datetime(2026, 11, 28, 6, tzinfo=UTC)
        assert local_day_end(date(2026, 11, 28)) - local_day_start(date(2026, 11, 28)) < timedelta(days=1)
        rows = [SimpleNamespace(created_at=night, verdict="NG"), SimpleNamespace(created_at=night.replace(hour=7),
                                                                                 verdict="OK")]
        assert [(d["day"], d["total"]) for d in daily_counts(rows)] == [("2026-11-27", 1), ("2026-11-28", 1)]
        page = project_page([], 0, daily=daily_counts(rows), days_total=2)
        assert "<h2>Per day (UTC-06:00)</h2>" in page
    finally:
        monkeypatch.undo()
        time.tzset()
    assert local_text(night) == "2026-11-28 03:30:00"  # the suite's own clock (tests/conftest.py) again


def test_days_split_at_local_midnight_in_a_zone_a_quarter_hour_off_the_hour(monkeypatch):
    import time
    from datetime import datetime
    from types import SimpleNamespace

    monkeypatch.setenv("TZ", "NPT-05:45")  # Nepal: UTC+05:45, local midnight at 18:15 UTC
    time.tzset()
    try:
        moments = [datetime(2026, 11, 28, 18, 14, 59), datetime(2026, 11, 28, 18, 15),
                   datetime(2026, 11, 28, 18, 0), datetime(2026, 11, 28, 18, 29, 59, 999999)]
        rows = [SimpleNamespace(created_at=moment, verdict="OK") for moment in moments]
        assert [(d["day"], d["total"]) for d in daily_counts(rows)] == [("2026-11-28", 2), ("2026-11-29", 2)]
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_csv_record_holds_every_column_in_the_header_s_order_and_names_its_calibration():
    import json
    from datetime import UTC, datetime
    from types import SimpleNamespace

    thresholds = {"bank_id": 7, "calibration_version": 1, "calibration_revision": 2,
                  "calibration_method": "labelled-f1", "sensitivity": 0.65}
    row = SimpleNamespace(id=3, project="disc", created_at=datetime(2026, 11, 29, 8, tzinfo=UTC), source_path="a.png",
                          lot="L-1", verdict="NG", score=0.81, raw_score=0.0731, region_count=2, largest_px=40.0,
                          mm_per_pixel=0.05, review="OK", review_comment="fine", operator="ann", bank_id=7,
                          thresholds_json=json.dumps(thresholds), engine_version="0.5.0")
    record = csv_record(row)
    assert tuple(record) == CSV_FIELDS  # the writer writes the values in this order under the header
    assert record["calibration"] == calibration_label(thresholds) == (
        "bank 7, calibration v1.2 (labelled-f1), sensitivity 0.65")
    assert (record["largest_length_mm"], record["score"], record["created_at"]) == (
        "2", "0.8100", "2026-11-29T08:00:00+00:00")
    # Text people typed that a spreadsheet would run as a formula is kept as text.
    row.review_comment, row.lot, row.operator = '=HYPERLINK("http://x","click")', "+49-7", "@ann"
    typed = csv_record(row)
    assert (typed["review_comment"], typed["lot"], typed["operator"]) == (
        '\'=HYPERLINK("http://x","click")', "'+49-7", "'@ann")
    assert (typed["source"], typed["project"]) == ("a.png", "disc")
