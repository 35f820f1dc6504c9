"""report.html: self-contained, every chart with alt text, source text escaped; rendered in real chromium."""

from __future__ import annotations

import base64
import html
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from conftest import FIXTURES, write_config
from hypothesis import given
from hypothesis import strategies as st

from aggregator.charts import day_chart
from aggregator.config import load_config
from aggregator.pipeline import run
from aggregator.report import upcoming

HOSTILE_TITLE = "<script>document.title='pwned'</script><img src=x onerror=alert(1)> Atelier piégé"
# What survives tag stripping, because it is no whole tag: it reaches the data as text.
LEFT = ' <3 & "co" <img src=x onerror=document.title=1'
# As a source would smuggle it past tag stripping: entities. Normalisation decodes them and strips
# the markup they hid; what is left must still reach the report as text.
SMUGGLED = (HOSTILE_TITLE + LEFT).replace("<", "&lt;").replace(">", "&gt;")
IN_DATA = "Atelier piégé" + LEFT


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _hostile_report(tmp_path: Path) -> Path:
    ics = (FIXTURES / "ical" / "lab-calendar.ics").read_text(encoding="utf-8")
    first = ics.index("SUMMARY:")
    end = ics.index("\n", first)
    ics = ics[:first] + f"SUMMARY:{SMUGGLED}" + ics[end:]
    # Next year's events: the report lists upcoming events only, and the hostile title must be among them.
    ics = ics.replace(":2026", f":{pd.Timestamp.now().year + 1}")
    (tmp_path / "hostile.ics").write_text(ics, encoding="utf-8")
    path = write_config(tmp_path, f"sources:\n  - {{id: lab, kind: ical, url: {tmp_path / 'hostile.ics'}}}\n")
    out = tmp_path / "out"
    assert run(load_config(path), out).status == "success"
    return out / "report.html"


def test_report_is_self_contained_with_alt_text_and_escaped_titles(tmp_path):
    html = _hostile_report(tmp_path).read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(html)
    images = [attrs for tag, attrs in parser.tags if tag == "img"]
    assert len(images) == 6  # maps per region and département, charts per region, day, type, attendance mode
    assert all((a.get("src") or "").startswith("data:image/png;base64,") for a in images)
    assert all(len(a.get("alt") or "") > 20 for a in images)
    assert not [tag for tag, _ in parser.tags if tag in ("script", "link", "iframe", "object", "embed")]
    assert "<script>" not in html and "pwned" not in html and "<img src=x" not in html
    assert "Atelier piégé &lt;3 &amp; &quot;co&quot; &lt;img src=x onerror=document.title=1" in html  # text


@pytest.mark.skipif(
    shutil.which("chromedriver") is None, reason="chromium-driver is not installed (make test installs it)"
)
def test_report_renders_in_headless_chromium_with_every_chart(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    report = _hostile_report(tmp_path)
    listings = pd.read_parquet(report.parent / "listings.parquet")
    assert IN_DATA in set(listings["title"])  # the hostile remainder really reached the data
    options = Options()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1100,3000",
    ):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(report.as_uri())
        assert driver.title.startswith("Mois de l\u2019innovation publique")  # the injected script never ran
        charts = driver.execute_script(
            "return [...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt.length])"
        )
        assert len(charts) == 6  # two maps, four charts, every one decoded
        assert all(done and width > 200 and height > 100 and alt > 20 for done, width, height, alt in charts)
        text = driver.find_element("tag name", "body").text
        assert IN_DATA in text  # shown as text, not run
        # WebDriver gives no-break spaces back as plain ones.
        assert "Méthode" in text and "Source : agrégation" in text and "Prochains événements" in text
        maps = driver.execute_script("return [...document.images].slice(0, 2).map(i => i.alt)")
        assert maps[0].startswith("Carte des événements par région") and "département" in maps[1]
        driver.save_screenshot(str(tmp_path / "report.png"))
        assert (tmp_path / "report.png").stat().st_size > 20_000
    finally:
        driver.quit()


@pytest.mark.parametrize("days", [30, 3000])
def test_day_chart_draws_a_month_as_bars_and_years_as_one_outline(days):
    dates = pd.date_range("2020-11-01", periods=days, freq="D")
    by_day = pd.DataFrame({"date": list(dates.date), "events": [i % 7 for i in range(days)]})
    figure = day_chart(by_day)
    image = re.search(r'src="data:image/png;base64,([^"]+)"', figure)
    assert image and base64.b64decode(image.group(1)).startswith(b"\x89PNG")
    last = {30: "30 novembre 2020", 3000: "17 janvier 2029"}[days]
    assert f"du 1er\u00a0novembre 2020 au {last}" in html.unescape(figure)  # dates written the French way


@given(
    st.lists(
        st.tuples(
            st.integers(0, 5), st.sampled_from(["b", "a", "B", "é"]), st.none() | st.integers(0, 8), st.booleans()
        ),
        max_size=40,
    ),
    st.integers(1, 6),
)
def test_upcoming_events_are_the_first_of_the_whole_sort(rows, limit):
    day = pd.Timestamp("2026-11-01", tz="UTC")
    aware = "datetime64[us, UTC]"
    events = pd.DataFrame(
        {
            "start_at": pd.Series([day + pd.Timedelta(hours=start) for start, *_ in rows], dtype=aware),
            "end_at": pd.Series(
                [None if end is None else day + pd.Timedelta(hours=end) for _, _, end, _ in rows], dtype=aware
            ),
            "title": [title for _, title, _, _ in rows],
            "status": ["cancelled" if cancelled else "scheduled" for *_, cancelled in rows],
            "row": range(len(rows)),
        }
    )
    as_of = day + pd.Timedelta(hours=2)
    ends = events["end_at"].fillna(events["start_at"])
    ahead = events[(ends >= as_of) & (events["status"] != "cancelled")]
    whole = ahead.sort_values(["start_at", "title"], kind="stable").head(limit)
    assert upcoming(events, as_of, limit)["row"].tolist() == whole["row"].tolist()
