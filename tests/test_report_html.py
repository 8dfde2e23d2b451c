"""The HTML report: content, order, escaping, self-containment, bounds and document structure.

These read the rendered page with lxml; tests/test_report_browser.py drives it in a real browser
(layout at 390 px, print, accessibility, filters and search).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from datetime import timedelta
from html.parser import HTMLParser

import lxml.html
import pytest
from conftest import FIXED_NOW
from markupsafe import escape
from report_samples import (
    FS,
    HOSTILE,
    SIGNING_CERT_B64,
    finding,
    hostile_result,
    sample_findings,
    sample_grade,
    sample_result,
)

from adfs_readiness.calendar import CalendarEntry
from adfs_readiness.grading import grade
from adfs_readiness.model import AcceptedRisk, Area, Grade, Severity, Status, Verdict
from adfs_readiness.report import render_html
from adfs_readiness.report._html_findings import FULL_ENTRIES, LISTED_ENTRIES

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}


class _NestingChecker(HTMLParser):
    """Fails on end tags that do not close the innermost open element (html.parser is lenient
    by itself; this makes mis-nesting and unclosed elements visible)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.doctype: str | None = None

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs) -> None:
        pass  # <circle .../> inside inline SVG

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()


def graded(**overrides):
    """sample_result() graded by the real grading (so it carries the grade's explanation)."""
    findings = overrides.pop("findings", sample_findings())
    return sample_result(findings=findings, grade=grade(findings), **overrides)


def tree_of(result):
    return lxml.html.document_fromstring(render_html(result))


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(graded())


@pytest.fixture(scope="module")
def tree(page: str):
    return lxml.html.document_fromstring(page)


def test_is_well_formed_html5(page: str) -> None:
    checker = _NestingChecker()
    checker.feed(page)
    checker.close()
    assert checker.doctype == "DOCTYPE html"
    assert checker.problems == []
    assert checker.stack == []
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")


def test_head_declares_charset_title_policy_and_both_colour_schemes(tree) -> None:
    head = tree.find("head")
    assert head[0].tag == "meta" and head[0].get("charset") == "utf-8"
    assert tree.findtext(".//title") == "NOT READY – AD FS readiness of fs.contoso.com"
    csp = tree.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')[0]
    assert "default-src 'none'" in csp
    assert tree.xpath('//meta[@name="color-scheme"]/@content') == ["light dark"]
    assert "prefers-color-scheme:dark" in tree.findtext(".//style")


def test_header_shows_verdict_grade_score_counts_and_run(tree) -> None:
    verdict = tree.get_element_by_id("verdict")
    assert "v-not-ready" in verdict.get("class")
    assert verdict.find_class("verdict-word")[0].text_content() == "NOT READY"
    assert verdict.find_class("grade")[0].text_content() == "F"
    assert "exit code 2" in verdict.text_content()
    counts = {li.get("class").split()[1]: li.text_content().strip()
              for li in tree.xpath('//header//ul[@class="counts"]/li')}
    assert counts == {"st-fail": "1 fail", "st-error": "1 not determined", "st-warn": "1 warning",
                      "st-info": "1 info", "st-pass": "3 pass", "st-skip": "1 skipped"}
    assert tree.findtext(".//h1") == "fs.contoso.com"
    assert tree.xpath("//header//time/@datetime") == ["2026-11-30T12:00:00+00:00"]
    runmeta = tree.find_class("runmeta")[0].text_content()
    assert "2026-11-30 12:00:00 UTC" in runmeta and "adfs-readiness 0.1.0" in runmeta and "12.3 s" in runmeta


def test_sticky_bar_skip_link_and_contents(tree) -> None:
    bar = tree.get_element_by_id("bar")
    assert bar.find_class("bar-verdict")[0].text_content() == "NOT READY"
    assert "Grade F" in bar.text_content()
    skip = tree.find_class("skip-link")[0]
    assert skip.get("href") == "#main" and tree.get_element_by_id("main").tag == "main"
    toc = [a.get("href") for a in tree.xpath('//nav[@class="toc"]//a')]
    assert toc == ["#fix-first", "#why", "#findings", "#area-metadata", "#area-tls", "#area-endpoints", "#facts",
                   "#legend"]


def test_sections_in_reading_order(tree) -> None:
    ids = [s.get("id") for s in tree.xpath("//main/section")]
    assert ids == ["fix-first", "why", "findings", "facts", "legend"]
    areas = [s.get("id") for s in tree.get_element_by_id("findings").xpath("./section")]
    assert areas == ["area-metadata", "area-tls", "area-endpoints"]


def test_every_link_inside_the_page_has_its_target(tree) -> None:
    ids = set(tree.xpath("//@id"))
    for href in tree.xpath("//a/@href"):
        if href.startswith("#"):
            assert href[1:] in ids, href


def test_fix_first_lists_blockers_first_each_with_its_command_and_a_link(tree) -> None:
    plan = tree.get_element_by_id("fix-first").xpath('.//ol[@class="plan"]/li')
    ids = [li.find_class("check-id")[0].text for li in plan]
    assert ids == ["token-signing.expiry", "metadata.reachable", "metadata.signature"]
    first = plan[0]
    assert "Blocks SSO" in first.text_content() and "Due now" in first.text_content()
    assert first.xpath('.//pre[@class="cmd-text"]')[0].text_content() == (
        "Update-AdfsCertificate -CertificateType Token-Signing -Urgent")
    assert first.xpath('.//button[@class="copy"]')[0].get("hidden") is not None  # shown by the script
    target = tree.get_element_by_id(first.find_class("act-title")[0].get("href")[1:])
    assert target.xpath('.//code[@class="check-id"]')[0].text == "token-signing.expiry"
    # The undetermined blocker says what stopped it, and offers no command for a fix.
    assert plan[1].find_class("act-what")[0].text_content().startswith("Not determined: Could not determine: timeout")
    assert not plan[1].xpath(".//pre")


def test_why_says_the_rule_groups_the_reasons_and_explains_the_grade(tree) -> None:
    why = tree.get_element_by_id("why")
    assert why.find_class("because")[0].text_content() == (
        "NOT READY. 1 failed check blocks single sign-on: it does not work until they are fixed, whatever the "
        "score.")
    groups = {g.find("dt").text_content().split(" (")[0]: g for g in why.find_class("why-group")}
    assert list(groups) == ["Blocker failed", "Blocker not determined", "Warning"]
    assert "metadata.reachable" in groups["Blocker not determined"].text_content()
    explained = grade(sample_findings()).explanation
    rows = why.xpath('.//table[@class="points"]/tbody/tr')
    assert [r.xpath("td")[0].text_content() for r in rows] == [f"−{p.points:.1f}" for p in explained.points_lost]
    caps = why.xpath('.//ul[@class="caps"]/li')
    assert len(caps) == len(explained.caps) == 1
    # The score alone already gives an F: the cap is named, not claimed to have changed the letter.
    assert explained.score_letter == "F" and not explained.caps[0].applied
    assert caps[0].text_content().startswith("Cap at F (the score is already as low): A failed blocker caps")
    assert "token-signing.expiry" in caps[0].text_content()
    mixed = tuple(finding(f"metadata.ok{i}", Status.PASS, "ok", severity=Severity.CRITICAL) for i in range(4)) + (
        finding("directory.spn", Status.FAIL, "duplicate SPN", severity=Severity.HIGH),)  # score 87: a B
    capped = tree_of(graded(findings=mixed)).get_element_by_id("why").xpath('.//ul[@class="caps"]/li')
    assert capped[0].text_content().startswith("Capped at C: A failed high or critical check caps the grade at C.")


def test_area_cards_worst_first_passes_in_a_closed_table_and_skips_by_reason(tree) -> None:
    area = tree.get_element_by_id("area-metadata")
    cards = area.find_class("finding")
    assert [c.xpath('.//code[@class="check-id"]')[0].text for c in cards] == [
        "token-signing.expiry", "metadata.reachable", "metadata.signature"]
    passed = area.find_class("passed")[0]
    assert passed.tag == "details" and passed.get("open") is None
    assert [r.xpath('.//code[@class="check-id"]')[0].text for r in passed.find_class("passed-row")] == [
        "metadata.well-formed", "metadata.entity-id"]
    skips = tree.get_element_by_id("area-tls").find_class("skip-line")
    assert [s.text_content().split() for s in skips] == [
        ["1", "Certificate", "authentication", "is", "not", "in", "scope.", "tls.san-certauth"]]


def test_a_card_shows_key_facts_and_keeps_raw_evidence_behind_a_toggle(tree) -> None:
    card = tree.get_element_by_id("area-metadata").find_class("finding")[0]
    facts = {dt.text_content(): dd.text_content() for dt, dd in zip(card.xpath(".//dl[@class='kf']//dt"),
                                                                     card.xpath(".//dl[@class='kf']//dd"))}
    assert facts["Certificate"] == f"CN=ADFS Signing - {FS}"
    assert facts["Expires"] == "2026-11-20 08:14 UTC" and facts["Days left"] == "-10"
    raw = card.find_class("raw")[0]
    assert raw.tag == "details" and raw.get("open") is None
    keys = [dt.text for dt in raw.xpath(".//dl/dt")]
    assert keys[:3] == ["certificate", "subject", "sha1"] and "days_left" in keys
    long = raw.find_class("long")[0]
    assert SIGNING_CERT_B64 not in long.find("summary").text_content()
    assert long.find("pre").text == SIGNING_CERT_B64
    assert "Update-AdfsCertificate -CertificateType Token-Signing -Urgent" in card.find_class("remediation")[0].text


def test_list_of_records_becomes_a_table_and_long_ones_are_cut() -> None:
    records = [{"address": f"10.0.0.{i}", "port": 443} for i in range(40)]
    records[1]["sni"] = True
    tree = tree_of(graded(findings=(finding("tls.node-consistency", Status.WARN, "Different certificates.",
                                            evidence={"nodes": records, "none": None, "empty": []}),)))
    table = tree.find_class("raw")[0].find_class("ev-table")[0]
    assert [th.text for th in table.xpath(".//th")] == ["address", "port", "sni"]
    rows = [[td.text_content().strip() for td in tr.xpath("td")] for tr in table.xpath(".//tbody/tr")]
    assert rows[:2] == [["10.0.0.0", "443", "none"], ["10.0.0.1", "443", "yes"]] and len(rows) == 25
    assert "… and 15 more rows (the JSON report has them all)" in tree.find_class("raw")[0].text_content()
    # The same list is the card's key table, first three rows.
    key_rows = tree.find_class("kt")[0].xpath(".//tbody/tr")
    assert len(key_rows) == 3 and "…and 37 more" in tree.find_class("kt")[0].text_content()


def test_many_targets_of_one_check_share_a_bounded_card() -> None:
    many = tuple(finding("tls.protocols", Status.FAIL, f"Node {i} offers TLS 1.0.", area=Area.TLS,
                         target=f"node 10.0.{i // 250}.{i % 250}:443", evidence={"offered": ["TLSv1"]})
                 for i in range(60))
    tree = tree_of(graded(findings=many))
    cards = tree.find_class("finding")
    assert len(cards) == 1
    card = cards[0]
    assert card.find_class("f-count")[0].text_content() == "60 findings on 60 targets"
    assert len(card.find_class("f-entry")) == FULL_ENTRIES
    assert len(card.xpath('.//ul[@class="f-listed"]/li')) == LISTED_ENTRIES
    assert "…and 35 more" in card.text_content()
    # The plan has one action for all 60, naming the first targets.
    act = tree.get_element_by_id("fix-first").xpath('.//ol[@class="plan"]/li')
    assert len(act) == 1 and "and 57 more" in act[0].text_content()


def test_five_thousand_findings_stay_under_two_megabytes() -> None:
    from report_samples import large_result

    page = render_html(large_result(5000))
    assert len(page.encode("utf-8")) < 2_000_000


def test_self_contained(page: str, tree) -> None:
    for forbidden in ('src="http', "<link", "@import", "url(http", "url(//", "<iframe", "<img"):
        assert forbidden not in page.lower()
    assert not tree.xpath("//*[@src]")
    for href in tree.xpath("//a/@href"):
        assert href.startswith("#") or href.startswith("https://")
    assert "@media print" in page


def test_inline_script_is_the_only_script_and_matches_the_policy_hash(tree) -> None:
    scripts = tree.xpath("//script")
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].text.encode()).digest()).decode()
    csp = tree.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')[0]
    assert f"script-src 'sha256-{digest}'" in csp


def test_tools_that_need_the_script_are_hidden_without_it(tree) -> None:
    assert tree.get_element_by_id("tools").get("hidden") is not None
    assert tree.find_class("bar-search")[0].get("hidden") is not None
    assert all(b.get("hidden") is not None for b in tree.find_class("copy"))


def test_ids_are_unique(tree) -> None:
    ids = tree.xpath("//@id")
    assert len(ids) == len(set(ids))


def test_the_same_finding_twice_gets_two_anchors() -> None:
    twice = finding("metadata.signature", Status.WARN, "Signed with RSA-SHA1.")
    tree = tree_of(graded(findings=(twice, twice)))
    ids = tree.xpath("//@id")
    assert len(ids) == len(set(ids))
    card = tree.find_class("finding")[0]
    assert card.get("id") == "finding-0" and card.find_class("f-entry")[1].get("id") == "finding-1"


def test_hostile_values_are_escaped_and_never_links() -> None:
    page = render_html(hostile_result())
    assert "<script>alert" not in page
    assert HOSTILE not in page
    assert '"onmouseover=' not in page
    tree = lxml.html.document_fromstring(page)
    assert len(tree.xpath("//script")) == 1
    for element in tree.iter():
        if isinstance(element.tag, str):
            assert not [a for a in element.attrib if a.lower().startswith("on")], element.tag
    hrefs = tree.xpath("//a/@href")
    assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:"))]
    # The injected text survives as text, exactly, where it was put.
    assert tree.findtext(".//h1") == f"{HOSTILE}.contoso.com"
    card = next(c for c in tree.find_class("finding") if "directory.displayname" in c.text_content())
    refs = card.find_class("refs")[0]
    assert [li.text_content() for li in refs.xpath("li")][0] == f"evil {HOSTILE} (javascript:alert(1))"
    # An https URL with a quote stays one attribute value; it does not open a new attribute.
    assert refs.xpath(".//a/@href") == ['https://example.invalid/"onmouseover="alert(3)']
    assert card.find_class("f-target")[0].text_content() == f"Target: CN={HOSTILE} [/],OU=Users,DC=contoso,DC=local"


@pytest.mark.parametrize(
    ("verdict", "css", "word"),
    [
        (Verdict.READY, "v-ready", "READY"),
        (Verdict.READY_WITH_WARNINGS, "v-ready-with-warnings", "READY WITH WARNINGS"),
        (Verdict.NOT_READY, "v-not-ready", "NOT READY"),
        (Verdict.INCOMPLETE, "v-incomplete", "INCOMPLETE"),
    ],
)
def test_each_verdict_has_its_badge(verdict: Verdict, css: str, word: str) -> None:
    result = sample_result(grade=dataclasses.replace(sample_grade(), verdict=verdict))
    tree = tree_of(result)
    badge = tree.get_element_by_id("verdict")
    assert css in badge.get("class").split()
    assert badge.find_class("verdict-word")[0].text == word
    assert re.search(r"\bexit code %d\b" % verdict.exit_code, badge.text_content())


def test_a_ready_run_says_there_is_nothing_to_fix() -> None:
    ok = (finding("metadata.well-formed", Status.PASS, "Well formed."),)
    tree = tree_of(graded(findings=ok))
    assert tree.get_element_by_id("fix-first").find_class("ok-line")[0].text_content() == (
        "Nothing to fix: no check failed, warned or was left undetermined.")
    assert tree.get_element_by_id("why").find_class("because")[0].text_content() == (
        "READY. Nothing failed, warned or was left undetermined.")


def test_legend_and_facts_collapsed_one_section_each(tree) -> None:
    legend = tree.get_element_by_id("legend")
    assert [p.text for p in legend.find_class("pill")] == ["FAIL", "ERROR", "WARN", "INFO", "PASS", "SKIP"]
    facts = tree.get_element_by_id("facts").xpath("./details")
    assert [d.find("summary").text_content() for d in facts] == ["Federation metadata metadata", "Run details"]
    assert all(d.get("open") is None for d in facts)
    assert f"http://{FS}/adfs/services/trust" in facts[0].text_content()


def test_empty_run_renders() -> None:
    result = sample_result(findings=(), grade=Grade(0, "F", Verdict.INCOMPLETE, (), {}), facts={}, metadata={})
    tree = tree_of(result)
    assert "No check produced a finding." in tree.text_content()
    assert not tree.xpath('//section[@id="facts"]')


def test_title_of_a_metadata_file_run_is_the_entity_id_host_not_the_local_path() -> None:
    path = "/home/admin/Downloads/FederationMetadata.xml"
    facts = {"metadata": {"source": path, "source_kind": "file",
                          "document": {"entity_id": "http://sts.fabrikam.com/adfs/services/trust"}}}
    tree = tree_of(sample_result(target=path, facts=facts))
    assert tree.findtext(".//h1") == "sts.fabrikam.com"
    assert tree.findtext(".//title") == "NOT READY – AD FS readiness of sts.fabrikam.com"
    assert path not in tree.find_class("top")[0].text_content()
    assert tree.find_class("checked")[0].text_content() == (
        "Checked: a saved federation metadata file (entityID http://sts.fabrikam.com/adfs/services/trust)")
    # No entityID (the file did not parse): the file's name, still not the path.
    unparsed = {"metadata": {"source": path, "source_kind": "file", "document": None}}
    assert tree_of(sample_result(target=path, facts=unparsed)).findtext(".//h1") == "FederationMetadata.xml"


def test_certificate_timeline_marks_today_thresholds_and_the_rollover_window() -> None:
    entries = (
        CalendarEntry(role="token-signing", subject="CN=ADFS Signing - fs.contoso.com", sha1="A" * 40,
                      sha256="B" * 64, not_after=FIXED_NOW + timedelta(days=17), days_left=17,
                      where=("metadata",)),
        CalendarEntry(role="SSL", subject="CN=fs.contoso.com", sha1="C" * 40, sha256="D" * 64,
                      not_after=FIXED_NOW + timedelta(days=300), days_left=300, where=("service",)),
    )
    tree = tree_of(sample_result(certificates=entries))
    section = tree.get_element_by_id("certificates")
    rows = section.find_class("tl-row")[1:]
    assert [r.get("class").split()[1] for r in rows] == ["st-warn", "st-pass"]
    signing = rows[0].text_content()
    expiry = FIXED_NOW + timedelta(days=17)
    day = lambda n: (expiry - timedelta(days=n)).date().isoformat()  # noqa: E731
    assert "17 days left" in signing and f"warns from {day(90)}, fails from {day(14)}" in signing
    assert f"rollover {day(20)} to {day(15)}" in signing  # generated 20 days before expiry, promoted 5 days later
    assert rows[0].find_class("tl-roll") and not rows[1].find_class("tl-roll")
    today = [float(re.search(r"left: ([\d.]+)%", r.find_class("tl-today")[0].get("style")).group(1)) for r in rows]
    assert len(set(today)) == 1 and 0 < today[0] < 20


def test_suppressed_findings_are_marked_and_left_out_of_the_plan() -> None:
    accepted = AcceptedRisk("Known; fixed in the next change window.", "j.doe", FIXED_NOW.date() + timedelta(days=30))
    risky = finding("metadata.signature", Status.WARN, "RSA-SHA1.", suppression=accepted, severity=Severity.LOW)
    tree = tree_of(graded(findings=(risky,)))
    card = tree.find_class("finding")[0]
    assert "Suppressed: accepted risk" in card.text_content() and "j.doe" in card.text_content()
    assert not tree.get_element_by_id("fix-first").xpath('.//ol[@class="plan"]')


def test_white_space_at_the_ends_of_a_value_is_drawn_so_the_value_and_its_fix_look_different():
    evidence = {"first_objects": [{"dn": "CN=trail,OU=Lab,DC=contoso,DC=test", "value": "trail@contoso.com ",
                                   "fix": "set it to 'trail@contoso.com'"}],
                "blank": "   ", "tabbed": "\tx", "plain": "a b"}
    page = render_html(sample_result(findings=(finding("directory.upn-format", Status.WARN, "1 object(s)",
                                                       evidence=evidence),)))
    tree = lxml.html.document_fromstring(page)
    raw = tree.find_class("raw")[0]
    marks = [(s.text, s.get("title")) for s in raw.xpath(".//span[@class='ws']")]
    assert marks == [("·", "white space at the end"), ("···", "white space at the start"),
                     ("→", "white space at the start")]
    texts = [s.text_content() for s in raw.xpath(".//span[@class='ev-text']")]
    assert texts == ["trail@contoso.com·", "···", "→x"]
    assert [dd.text_content().strip() for dd in raw.xpath(".//dd")][-1] == "a b"  # inner spaces are left alone
    assert "(white space only)" in page
    # The key table of the card draws the same marks.
    assert [s.text for s in tree.find_class("kt")[0].xpath(".//span[@class='ws']")] == ["·"]


def test_every_check_id_and_summary_appears(page: str) -> None:
    for f in sample_findings():
        assert f">{f.check_id}<" in page
        assert str(escape(f.summary)) in page
