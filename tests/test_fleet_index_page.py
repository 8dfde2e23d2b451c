"""The fleet index page (``check --config tenants/ --out-dir reports/``): read on a phone without
sideways scrolling (in Debian's chromium, as tests/test_report_browser.py does for the run
report), its time shown as the run report shows one, and a tenant that did not run never said
to have no blockers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from report_samples import sample_result

from adfs_readiness.app.fleet import Tenant, TenantOutcome, fleet_index
from adfs_readiness.app.scheduled import ScheduledRun
from adfs_readiness.report.fleet_index import render_fleet_index_html

from conftest import FIXED_NOW

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def _index() -> dict:
    """Three tenants: two ran (one with a long service name), one whose configuration was bad."""
    ran = sample_result()
    long_name = dataclasses.replace(ran, target="adfs-federation-service-for-the-northern-region.subsidiary.contoso.com")
    outcomes = [
        TenantOutcome(Tenant("contoso", Path("/etc/t/contoso.toml"), None), ScheduledRun(result=ran), None, 1.5,
                      {"html": "contoso/report.html", "json": "contoso/report.json"}),
        TenantOutcome(Tenant("northern-region-subsidiary", Path("/etc/t/n.toml"), None),
                      ScheduledRun(result=long_name), None, 2.0, {"html": "northern-region-subsidiary/report.html"}),
        TenantOutcome(Tenant("broken", Path("/etc/t/broken.toml"), None, "bad"), None,
                      "/etc/t/broken.toml: federation.service_name = 'https://not a name': expected a host name",
                      0.0, {}),
    ]
    return fleet_index(outcomes, FIXED_NOW.replace(microsecond=592177))


def test_the_time_is_shown_as_the_run_report_shows_it_and_json_keeps_iso():
    index = _index()
    page = render_fleet_index_html(index)
    assert index["generated_at"] == "2026-11-30T12:00:00.592177+00:00"
    assert "Generated 2026-11-30 12:00:00 UTC ·" in page and "592177" not in page


def test_a_tenant_that_did_not_run_has_no_blockers_said_none():
    from lxml import html

    page = html.fromstring(render_fleet_index_html(_index()))
    rows = {tr.find_class("tenant")[0].text_content(): tr for tr in page.iter("tr") if tr.find_class("tenant")}
    broken = {td.get("data-label"): td.text_content().strip() for td in rows["broken"].iter("td")}
    assert broken["Blockers"] == "not determined (not run)"
    assert broken["Since last run"] == "not run" and broken["Verdict"].startswith("not run: ")
    contoso = {td.get("data-label"): td.text_content().strip() for td in rows["contoso"].iter("td")}
    assert contoso["Blockers"] == "metadata.reachable, token-signing.expiry"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)")
def test_nothing_scrolls_sideways_at_390_px(tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright (the test extra) is not installed")
    path = tmp_path / "index.html"
    path.write_text(render_fleet_index_html(_index()), encoding="utf-8")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_context(viewport=PHONE).new_page()
            page.goto(path.as_uri())
            width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
            assert width <= PHONE["width"]
            outside = page.evaluate("""() => Array.from(document.querySelectorAll('body *')).filter(e => {
                  const r = e.getBoundingClientRect();
                  return e.checkVisibility() && r.width > 0 && r.right > window.innerWidth + 1;
                }).map(e => e.tagName + '.' + e.className).slice(0, 5)""")
            assert outside == []
            # Each line of a tenant's card says what it is.
            label = page.evaluate("""() => getComputedStyle(document.querySelector('td[data-label=Blockers]'),
                                                           '::before').content""")
            assert label == '"Blockers: "'
            # On a desktop it stays one table row per tenant.
            wide = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            wide.goto(path.as_uri())
            assert wide.evaluate("getComputedStyle(document.querySelector('thead')).display") == "table-header-group"
        finally:
            browser.close()
