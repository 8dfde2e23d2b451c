"""HTML report benchmark: size, render time and browser load time of a report with N findings
(default 5,000), the same generated run the browser tests use (tests/report_samples.py
``large_result``: TLS and endpoint checks on hundreds of nodes, directory checks naming thousands
of objects, 60 certificates).

    python benchmarks/report_html.py [--findings 5000] [--repeat 5]

Prints the page size, the median time to render it (Python), and the median time Debian's
chromium (driven by playwright, no browser download) takes from navigation to the load event and
to the first filter click, at 1440 px and 390 px. Targets from issue 13: under 2 MB and under one
second to load. Not run as a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from report_samples import large_result  # noqa: E402  (the generator the browser tests use)

from adfs_readiness.report import render_html  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--findings", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    result = large_result(args.findings)
    renders = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        page = render_html(result)
        renders.append(time.perf_counter() - started)
    size = len(page.encode("utf-8"))
    print(f"findings: {len(result.findings)}  certificates: {len(result.certificates)}")
    print(f"HTML size: {size / 1e6:.2f} MB ({size:,} bytes; target < 2 MB)")
    print(f"render (Python): median {statistics.median(renders) * 1000:.0f} ms of {args.repeat}")

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.html"
        path.write_text(page, encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for width, height in ((1440, 900), (390, 844)):
                loads, filters, nodes = [], [], 0
                for _ in range(args.repeat):
                    tab = browser.new_page(viewport={"width": width, "height": height})
                    tab.goto(path.as_uri(), wait_until="load")
                    # Navigation Timing: from the start of navigation to the end of the load event.
                    loads.append(tab.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000)
                    nodes = tab.evaluate("document.getElementsByTagName('*').length")
                    started = time.perf_counter()
                    tab.click(".chip[data-filter='status'][data-value='fail']")
                    tab.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
                    filters.append(time.perf_counter() - started)
                    tab.close()
                print(f"{width} px: load median {statistics.median(loads) * 1000:.0f} ms (max "
                      f"{max(loads) * 1000:.0f}; target < 1000), filter click median "
                      f"{statistics.median(filters) * 1000:.0f} ms, {nodes:,} elements")
            browser.close()


if __name__ == "__main__":
    main()
