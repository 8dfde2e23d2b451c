"""The HTML report: content, escaping, self-containment and document structure."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from html.parser import HTMLParser

import lxml.html
import pytest
from markupsafe import escape
from report_samples import (
    HOSTILE,
    SIGNING_CERT_B64,
    finding,
    hostile_result,
    sample_grade,
    sample_result,
)

from adfs_readiness.model import Grade, Status, Verdict
from adfs_readiness.report import render_html

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


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(sample_result())


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


def test_head_declares_charset_title_and_policy(tree) -> None:
    head = tree.find("head")
    assert head[0].tag == "meta" and head[0].get("charset") == "utf-8"
    assert tree.findtext(".//title") == "NOT READY – AD FS readiness of fs.contoso.com"
    csp = tree.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')[0]
    assert "default-src 'none'" in csp


def test_header_shows_verdict_grade_score_counts_and_run(tree) -> None:
    verdict = tree.get_element_by_id("verdict")
    assert "v-not-ready" in verdict.get("class")
    assert verdict.find_class("verdict-word")[0].text_content() == "NOT READY"
    assert verdict.find_class("grade")[0].text_content() == "F"
    assert verdict.find_class("score")[0].text_content() == "38"
    assert "exit code 2" in verdict.text_content()
    counts = {
        li.get("class").split()[1]: li.text_content().strip()
        for li in tree.xpath('//header//ul[@class="counts"]/li')
    }
    assert counts == {
        "st-fail": "1 fail", "st-error": "1 not determined", "st-warn": "1 warning",
        "st-info": "1 info", "st-pass": "3 pass", "st-skip": "1 skipped",
    }
    assert tree.findtext('.//h1') == "fs.contoso.com"
    assert tree.xpath("//time/@datetime") == ["2026-11-30T12:00:00+00:00"]
    runmeta = tree.find_class("runmeta")[0].text_content()
    assert "2026-11-30 12:00:00 UTC" in runmeta and "adfs-readiness 0.1.0" in runmeta
    assert "12.3 s" in runmeta


def test_every_check_id_and_summary_appears(page: str) -> None:
    for f in sample_result().findings:
        assert f">{f.check_id}<" in page
        assert str(escape(f.summary)) in page


def test_sections_in_reading_order(tree) -> None:
    ids = [s.get("id") for s in tree.xpath("//main/section")]
    assert ids == ["why", "blockers", "area-metadata", "area-tls", "area-endpoints"]
    headings = [h.text_content() for h in tree.xpath("//main/section//h2")]
    assert headings == [
        "Why this verdict",
        "What blocks single sign-on",
        "Federation metadata and token certificates",
        "Service-communications (SSL) certificate and TLS",
        "AD FS endpoints",
    ]


def test_reasons_link_to_their_findings(tree) -> None:
    reasons = tree.get_element_by_id("why").find_class("reason")
    assert [r.find_class("reason-kind")[0].text_content() for r in reasons] == [
        "Blocker failed", "Blocker not determined", "Warning",
    ]
    link = reasons[0].xpath(".//a")[0]
    target = tree.get_element_by_id(link.get("href")[1:])
    assert target.xpath('.//code[@class="check-id"]')[0].text == "token-signing.expiry"


def test_blockers_section_shows_the_failed_blocker_in_full(tree) -> None:
    section = tree.get_element_by_id("blockers")
    cards = section.find_class("finding")
    assert len(cards) == 1
    card = cards[0]
    assert card.get("open") is not None
    text = card.text_content()
    assert "token-signing.expiry" in text
    assert "expired on 2026-11-20 (10 days ago)" in text
    assert "Update-AdfsCertificate -CertificateType Token-Signing -Urgent" in text
    assert "Blocks SSO" in text
    # The evidence is there, readable: nested map as a definition list.
    keys = [dt.text for dt in card.xpath(".//dl/div/dt")]
    assert keys[:3] == ["certificate", "subject", "sha1"]
    assert "days_left" in keys
    # The blocker that could not be determined is named, linked to its card.
    undetermined = section.find_class("undetermined")[0]
    assert "metadata.reachable" in undetermined.text_content()


def test_no_blockers_is_said_plainly() -> None:
    result = sample_result(
        findings=(finding("metadata.signature", Status.WARN, "Signed with RSA-SHA1."),),
        grade=Grade(38, "C", Verdict.READY_WITH_WARNINGS, (), {"warn": 1}),
    )
    tree = lxml.html.document_fromstring(render_html(result))
    section = tree.get_element_by_id("blockers")
    assert section.find_class("ok-line")[0].text_content() == (
        "No failed check blocks single sign-on."
    )
    assert not section.find_class("finding")
    assert "v-ready-with-warnings" in tree.get_element_by_id("verdict").get("class")
    assert tree.get_element_by_id("why").find_class("plain")[0].text_content() == (
        "The grading recorded no reasons."
    )


def test_area_findings_worst_first_and_passes_collapsed(tree) -> None:
    cards = tree.get_element_by_id("area-metadata").find_class("finding")
    assert [c.xpath('.//code[@class="check-id"]')[0].text for c in cards] == [
        "token-signing.expiry",  # fail
        "metadata.reachable",  # error
        "metadata.signature",  # warn
        "metadata.well-formed",  # pass, critical
        "metadata.entity-id",  # pass, high
    ]
    assert [c.get("open") is not None for c in cards] == [True, True, True, False, False]
    tls = tree.get_element_by_id("area-tls").find_class("finding")
    assert [c.find_class("pill")[0].text for c in tls] == ["PASS", "SKIP"]
    assert all(c.get("open") is None for c in tls)


def test_long_values_are_shortened_with_the_full_value_kept(tree) -> None:
    card = tree.get_element_by_id("area-metadata").find_class("finding")[0]
    long = card.find_class("long")[0]
    shown = long.find("summary").text_content()
    assert SIGNING_CERT_B64 not in shown and SIGNING_CERT_B64[:96] + "…" in shown
    assert long.find("pre").text == SIGNING_CERT_B64


def test_list_of_records_becomes_a_table() -> None:
    records = [{"address": "10.0.0.11", "port": 443}, {"address": "10.0.0.12", "port": 443,
                                                         "sni": True}]
    result = sample_result(findings=(
        finding("tls.node-consistency", Status.PASS, "Same certificate.",
                evidence={"nodes": records, "none": None, "empty": []}),
    ))
    tree = lxml.html.document_fromstring(render_html(result))
    table = tree.find_class("ev-table")[0]
    assert [th.text for th in table.xpath(".//th")] == ["address", "port", "sni"]
    rows = [[td.text_content().strip() for td in tr.xpath("td")]
            for tr in table.xpath(".//tbody/tr")]
    assert rows == [["10.0.0.11", "443", "none"], ["10.0.0.12", "443", "yes"]]


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


def test_ids_are_unique(tree) -> None:
    ids = tree.xpath("//@id")
    assert len(ids) == len(set(ids))


def test_the_same_finding_twice_gets_two_anchors() -> None:
    twice = finding("metadata.signature", Status.WARN, "Signed with RSA-SHA1.")
    tree = lxml.html.document_fromstring(render_html(sample_result(findings=(twice, twice))))
    ids = tree.xpath("//@id")
    assert len(ids) == len(set(ids))
    assert tree.xpath("//details[@id]/@id") == ["finding-0", "finding-1"]


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
    card = next(
        c for c in tree.find_class("finding") if "directory.displayname" in c.text_content()
    )
    refs = card.find_class("refs")[0]
    assert [li.text_content() for li in refs.xpath("li")][0] == (
        f"evil {HOSTILE} (javascript:alert(1))"
    )
    # An https URL with a quote stays one attribute value; it does not open a new attribute.
    assert refs.xpath(".//a/@href") == ['https://example.invalid/"onmouseover="alert(3)']
    assert card.find_class("f-target")[0].text_content() == (
        f"Target: CN={HOSTILE} [/],OU=Users,DC=contoso,DC=local"
    )


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
    tree = lxml.html.document_fromstring(render_html(result))
    badge = tree.get_element_by_id("verdict")
    assert css in badge.get("class").split()
    assert badge.find_class("verdict-word")[0].text == word
    assert re.search(r"\bexit code %d\b" % verdict.exit_code, badge.text_content())


def test_footer_has_legend_and_collapsed_facts(tree) -> None:
    legend = tree.get_element_by_id("legend")
    assert [p.text for p in legend.find_class("pill")] == [
        "FAIL", "ERROR", "WARN", "INFO", "PASS", "SKIP",
    ]
    facts = tree.xpath("//footer/details")
    assert [d.find("summary").text for d in facts] == [
        "Facts gathered during the run", "Run details",
    ]
    assert all(d.get("open") is None for d in facts)
    assert "https://fs.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml" in (
        facts[0].text_content()
    )


def test_empty_run_renders() -> None:
    result = sample_result(
        findings=(),
        grade=Grade(0, "F", Verdict.INCOMPLETE, (), {}),
        facts={},
        metadata={},
    )
    tree = lxml.html.document_fromstring(render_html(result))
    assert "No check produced a finding." in tree.text_content()
    assert not tree.xpath("//footer/details")


def test_white_space_at_the_ends_of_a_value_is_drawn_so_the_value_and_its_fix_look_different():
    evidence = {"first_objects": [{"dn": "CN=trail,OU=Lab,DC=contoso,DC=test", "value": "trail@contoso.com ",
                                   "fix": "set it to 'trail@contoso.com'"}],
                "blank": "   ", "tabbed": "\tx", "plain": "a b"}
    page = render_html(sample_result(findings=(finding("directory.upn-format", Status.WARN, "1 object(s)",
                                                       evidence=evidence),)))
    tree = lxml.html.document_fromstring(page)
    marks = [(s.text, s.get("title")) for s in tree.xpath("//span[@class='ws']")]
    assert marks == [("·", "white space at the end"), ("···", "white space at the start"),
                     ("→", "white space at the start")]
    texts = [s.text_content() for s in tree.xpath("//span[@class='ev-text']")]
    assert "trail@contoso.com·" in texts and "→x" in texts and "a b" in texts  # inner spaces are left alone
    assert "(white space only)" in page
