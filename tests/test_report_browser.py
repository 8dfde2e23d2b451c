"""The HTML report in a real browser (Debian's chromium driven by playwright; no browser download):
the demo lab's report and a generated 5,000-finding one.

What an admin relies on: nothing scrolls sideways on a 390 px phone; the demo prints to at most
15 A4 pages with nothing cut or squeezed; axe-core finds no WCAG 2.1 AA violation, as opened and
with everything expanded, light and dark; the filters and the search hide and show the right
findings; the page makes no request beyond its own file; without script everything is readable.
Load time and size of the large report are figures printed by benchmarks/report_html.py, not
assertions here.
"""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright (the test extra) is not installed")

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
MAX_DEMO_PAGES = 15

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed "
                                                              "(apt-get install chromium, as .ci/run does)")


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> Path:
    """The demo lab's report, rendered once for the module (the demo takes ~20 s)."""
    from adfs_readiness.app.demo import run_demo
    from adfs_readiness.engine.registry import discover_checks
    from adfs_readiness.probes.catalog import all_probes
    from adfs_readiness.report import render_html

    demo = run_demo(discover_checks(), all_probes(), "demo", deadline_seconds=60, as_of=None,
                    directory="auto", log=lambda line: None)
    path = tmp_path_factory.mktemp("demo") / "report.html"
    path.write_text(render_html(demo.result), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def large_report(tmp_path_factory) -> Path:
    from report_samples import large_result

    from adfs_readiness.report import render_html

    path = tmp_path_factory.mktemp("large") / "report.html"
    path.write_text(render_html(large_result(5000)), encoding="utf-8")
    return path


def open_page(browser, path: Path, viewport=DESKTOP, scheme="light", javascript=True):
    context = browser.new_context(viewport=viewport, color_scheme=scheme, java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    page.requests, page.errors = requests, errors  # type: ignore[attr-defined]
    return page


def expand_all(page) -> None:
    page.click("[data-expand='1']")


def page_width(page) -> int:
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def visible(page, selector: str) -> list[str]:
    """The ids (or data-status) of the matching elements that are shown."""
    return page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(sel))
             .filter(e => e.checkVisibility())
             .map(e => e.id || e.getAttribute('data-status'))""", selector)


# --- phone --------------------------------------------------------------------------------------

@pytest.mark.parametrize("report", ["demo_report", "large_report"])
def test_nothing_scrolls_sideways_at_390_px_even_with_everything_open(browser, report, request):
    page = open_page(browser, request.getfixturevalue(report), PHONE)
    assert page_width(page) <= PHONE["width"]
    expand_all(page)
    assert page_width(page) <= PHONE["width"]
    # Long thumbprints, URLs and DNs wrap inside their boxes instead of running out of them.
    overflowing = page.evaluate(
        """() => Array.from(document.querySelectorAll('main *')).filter(e => {
             const r = e.getBoundingClientRect();
             return e.checkVisibility() && r.width > 0 && r.right > window.innerWidth + 1 && !e.closest('.scroll');
           }).map(e => e.tagName + '.' + e.className).slice(0, 5)""")
    assert overflowing == []
    page.context.close()


# --- print --------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="pdfinfo (poppler-utils) is not installed")
def test_the_demo_prints_to_at_most_15_a4_pages_listing_the_passes_with_their_evidence_closed(browser, demo_report, tmp_path):
    page = open_page(browser, demo_report)
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))
    assert 3 <= pages <= MAX_DEMO_PAGES
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Fix first" in text and "directory.spn" in text and "setspn -D HOST/sts.contoso.test" in text
    # The passes are half the evidence of a change request: on paper every passed check is listed,
    # one line each (its id, title and targets), while its evidence stays collapsed; and paper is
    # never told to "open" anything.
    passed = page.evaluate("() => Array.from(document.querySelectorAll('details.passed-row code.check-id'))"
                           ".map(e => e.textContent)")
    assert len(passed) > 50
    lines = [" ".join(line.split()) for line in text.splitlines()]
    for check_id in passed:
        assert any(line.startswith(check_id + " ") for line in lines), check_id
    assert "checks passed" in text and "open a row" not in text and "opens on its own" not in text
    assert "token-signing.expiry" in text and "18 days left" in text  # as the scenario list says (item 7)
    # On screen the rows stay as they were: collapsed, with the hint, and no second list.
    screen = page.evaluate("""() => ({
        hint: Array.from(document.querySelectorAll('details.passed > summary')).every(
            s => s.textContent.includes('open a row')),
        printList: Array.from(document.querySelectorAll('.pass-print')).some(e => e.checkVisibility()),
      })""")
    assert screen == {"hint": True, "printList": False}
    page.context.close()


def test_printed_layout_cuts_and_squeezes_nothing(browser, demo_report):
    # A4 at 96 dpi less 12 mm margins is about 703 px wide: the print stylesheet at that width.
    page = open_page(browser, demo_report, {"width": 703, "height": 1000})
    page.emulate_media(media="print")
    assert page_width(page) <= 703
    state = page.evaluate(
        """() => ({
             hiddenTools: ['.bar', '.toc', '#tools'].every(s => getComputedStyle(document.querySelector(s)).display === 'none'),
             openPassed: document.querySelectorAll('details.passed[open], details.fact[open]').length,
             cut: Array.from(document.querySelectorAll('main *')).filter(e => {
                 const s = getComputedStyle(e);
                 return (s.overflowX === 'hidden' || s.overflowX === 'auto' || s.overflowX === 'scroll')
                     && e.scrollWidth > e.clientWidth + 1 && e.checkVisibility() && !e.classList.contains('sr');
               }).map(e => e.tagName + '.' + e.className).slice(0, 5),
             squeezed: Array.from(document.querySelectorAll('main td, main dd, main p, main li, main summary')).filter(e => {
                 const r = e.getBoundingClientRect();
                 return e.checkVisibility() && r.width > 0 && r.width < 48 && e.textContent.trim().length > 6;
               }).map(e => e.tagName + ':' + e.textContent.trim().slice(0, 20)).slice(0, 5),
           })""")
    assert state == {"hiddenTools": True, "openPassed": 0, "cut": [], "squeezed": []}
    page.context.close()


# --- accessibility ------------------------------------------------------------------------------

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(page, only=None) -> list[tuple[str, list[str]]]:
    """axe-core's violations of WCAG 2.1 A/AA (and its best practices), or of the rules ``only``."""
    source = resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
    page.evaluate(source)
    options = {"runOnly": only} if only else {"runOnly": {"type": "tag", "values": WCAG_21_AA}}
    result = page.evaluate("(options) => axe.run(document, options)", options)
    return [(v["id"], [n["target"][0] for n in v["nodes"]][:3]) for v in result["violations"]]


@pytest.mark.parametrize(("viewport", "scheme", "expanded", "only"), [
    (DESKTOP, "light", False, None), (DESKTOP, "light", True, None), (PHONE, "light", False, None),
    # Dark mode changes colours only: its contrast, with every value on screen.
    (DESKTOP, "dark", True, ["color-contrast"]),
], ids=["desktop-as-opened", "desktop-expanded", "phone-as-opened", "dark-expanded-contrast"])
def test_axe_core_finds_no_violation(browser, demo_report, viewport, scheme, expanded, only):
    page = open_page(browser, demo_report, viewport, scheme)
    if expanded:
        expand_all(page)
    assert axe_violations(page, only) == []
    page.context.close()


def test_the_skip_link_is_the_first_stop_and_leads_to_the_report(browser, demo_report):
    page = open_page(browser, demo_report)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    page.context.close()


# --- filters, search, links ---------------------------------------------------------------------

def test_status_area_and_severity_chips_and_search_show_exactly_the_matching_findings(browser, demo_report):
    page = open_page(browser, demo_report)
    everything = page.evaluate("document.querySelectorAll('#findings [data-status]').length")
    assert len(visible(page, "#findings [data-status]")) == everything - page.evaluate(
        "document.querySelectorAll('#findings details.passed .passed-row').length")  # passes closed
    page.click(".chip[data-filter='status'][data-value='fail']")
    assert set(visible(page, "#findings [data-status]")) == set(page.evaluate(
        "Array.from(document.querySelectorAll('#findings [data-status=fail]')).map(e => e.id)"))
    assert page.evaluate("Array.from(document.querySelectorAll('#findings .area'))"
                         ".filter(a => !a.hidden).map(a => a.id)") == ["area-dns", "area-directory"]
    page.click(".chip[data-filter='area'][data-value='dns']")
    fails_in_dns = visible(page, "#findings [data-status]")
    assert len(fails_in_dns) == 1 and page.text_content(f"#{fails_in_dns[0]} .check-id") == "dns.msoid"
    page.click("[data-reset]")
    page.click(".chip[data-filter='status'][data-value='pass']")
    page.click(".chip[data-filter='severity'][data-value='critical']")
    shown = visible(page, "#findings [data-status]")
    assert shown and all(page.get_attribute(f"#{i}", "data-status") == "pass"
                         and page.get_attribute(f"#{i}", "data-severity") == "critical" for i in shown)
    assert page.evaluate("Array.from(document.querySelectorAll('details.passed')).every(d => d.hidden || d.open)")
    page.click("[data-reset]")
    page.fill("#q", "msoid")
    page.press("#q", "Enter")
    shown = visible(page, "#findings [data-status]")
    assert [page.text_content(f"#{i} .check-id") for i in shown] == ["dns.msoid"]
    assert page.text_content("#shown").startswith("1 of ")
    page.fill("#q", "no such text anywhere")
    page.press("#q", "Enter")
    assert visible(page, "#findings [data-status]") == []
    page.click("[data-reset]")
    assert len(visible(page, "#findings [data-status]")) > 50
    assert page.errors == []
    page.context.close()


def test_a_link_to_a_passed_check_opens_its_table(browser, demo_report):
    page = open_page(browser, demo_report)
    row = page.evaluate("document.querySelector('.passed-row').id")
    page.evaluate("(id) => { const a = document.createElement('a'); a.href = '#' + id; a.id = 'probe-link';"
                  " a.textContent = 'go'; document.querySelector('#why').appendChild(a); }", row)
    page.click("#probe-link")
    # The passed checks' list opens, and so does the row linked to, showing its evidence.
    assert page.evaluate("(id) => document.getElementById(id).parentElement.closest('details').open", row)
    assert page.evaluate("(id) => document.getElementById(id).open", row)
    assert page.locator(f"#{row} .pr-body").is_visible()
    page.context.close()


def test_copy_button_copies_the_command(browser, demo_report):
    page = open_page(browser, demo_report)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    button = page.locator("#fix-first .copy").first
    expected = page.locator("#fix-first .cmd-text").first.text_content()
    button.click()
    page.wait_for_function("() => document.querySelector('#fix-first .copy').textContent !== 'Copy'")
    assert button.text_content() in ("Copied", "Select and copy")
    if button.text_content() == "Copied":
        assert page.evaluate("navigator.clipboard.readText()") == expected
    page.context.close()


# --- self-contained, readable without script ----------------------------------------------------

@pytest.mark.parametrize("report", ["demo_report", "large_report"])
def test_no_request_leaves_the_file_and_the_script_runs_under_the_policy(browser, report, request):
    path = request.getfixturevalue(report)
    page = open_page(browser, path)
    expand_all(page)
    page.fill("#q", "contoso")
    page.press("#q", "Enter")
    assert page.requests == [path.as_uri()]
    assert page.errors == []  # no CSP violation, no script error
    assert page.is_visible("#tools") and page.is_visible("#q")
    page.context.close()


def test_without_script_every_finding_is_there_and_the_tools_are_not(browser, demo_report):
    page = open_page(browser, demo_report, javascript=False)
    assert not page.is_visible("#tools") and not page.is_visible("#q")
    assert page.locator("#fix-first .copy").first.is_hidden()
    cards = page.locator("#findings article.finding")
    assert cards.count() > 10 and all(cards.nth(i).is_visible() for i in range(cards.count()))
    page.click("details.passed >> nth=0")  # native <details> still opens
    assert page.locator(".passed-row").first.is_visible()
    page.context.close()


def test_the_large_report_filters_its_findings(browser, large_report):
    page = open_page(browser, large_report, PHONE)
    page.click(".chip[data-filter='status'][data-value='error']")
    shown = visible(page, "#findings [data-status]")
    assert shown and all(page.get_attribute(f"#{i}", "data-status") == "error" for i in shown)
    assert page.errors == []
    page.context.close()
