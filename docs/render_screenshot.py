"""Make docs/lesson-page.png: the lesson page of `chainrule diff "sin((2x+1)^2)" --at 3 --format html`
after every backward step, in headless Chromium; and docs/lesson-page.json, the values the page
shows then, which tests/test_html.py checks the page still shows.

Run from the repository root, with Chromium at /usr/bin/chromium:  python docs/render_screenshot.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
COMMAND = ["diff", "sin((2x+1)^2)", "--at", "3"]
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]


def main() -> None:
    page_html = subprocess.run(
        [sys.executable, "-m", "chainrule", *COMMAND, "--format", "html"], capture_output=True, text=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        path = Path(folder) / "page.html"
        path.write_text(page_html, encoding="utf-8")
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.goto(path.as_uri())
        while not page.is_disabled("#next"):
            page.click("#next")
        read = lambda kind: {  # noqa: E731
            el.get_attribute(f"data-cell-{kind}"): float(el.get_attribute("data-number"))
            for el in page.locator(f"[data-cell-{kind}][data-number]").all()
        }
        shown = {
            "command": COMMAND,
            "step": page.inner_text("#step-text"),
            "values": read("value"),
            "adjoints": read("adjoint"),
        }
        page.screenshot(path=str(ROOT / "docs" / "lesson-page.png"), full_page=True)
        browser.close()
    (ROOT / "docs" / "lesson-page.json").write_text(json.dumps(shown, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
