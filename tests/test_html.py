"""The lesson page (`--format html`) in a real headless browser: Debian's Chromium, driven by
Playwright.  Every step is clicked (or keyed) through, and the values the page shows are read
and compared with the JSON document of the same command.  Also: it works offline, its
controls have names, its text has contrast, and it prints without its controls.

CI installs Chromium (.ci/run) and sets CHAINRULE_CI: there a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chainrule.cli import app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code in (0, 3), result.stderr  # 3: a wrong answer to check
    return result.stdout


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CHAINRULE_CI"):
            pytest.fail("CI must have Chromium: .ci/run installs it")
        pytest.skip("no Chromium on this machine (CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


def open_page(browser: Any, tmp_path: Path, *args: str) -> Any:
    path = tmp_path / "page.html"
    path.write_text(run(*args, "--format", "html"), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(path.as_uri())
    return page


def number(page: Any, selector: str) -> float:
    return float(page.get_attribute(selector, "data-number"))


def test_stepping_through_diff_shows_the_json_values(browser: Any, tmp_path: Path) -> None:
    args = ("diff", "sin((2x+1)^2)", "--at", "3")
    doc = json.loads(run(*args, "--json"))
    page = open_page(browser, tmp_path, *args)
    layers = doc["layers"]
    assert page.inner_text("#step-counter") == f"step 0 of {2 * len(layers)}"
    for k, layer in enumerate(layers, start=1):  # the forward pass, by the mouse
        page.click("#next")
        assert number(page, f'[data-cell-value="{layer["name"]}"]') == layer["value"]
        assert page.inner_text("#step-text").startswith(f"Forward step {k} of {len(layers)}: {layer['name']} = ")
    for k in range(1, len(layers) + 1):  # the backward pass, by the keyboard
        page.keyboard.press("ArrowRight")
        assert page.inner_text("#step-text").startswith(f"Backward step {k} of {len(layers)}")
    assert number(page, '[data-cell-adjoint="x"]') == doc["derivative"]["value"]  # 28·cos(49) = 8.4166
    assert page.is_disabled("#next")
    page.keyboard.press("ArrowLeft")
    assert page.inner_text('[data-cell-adjoint="x"]') == "?"


def test_stepping_through_grad_reproduces_every_backward_step(browser: Any, tmp_path: Path) -> None:
    args = ("grad", "z = w1*x + b1; a = sigmoid(z); yhat = w2*a + b2; L = 1/2*(yhat - y)^2")
    args += ("--at", "w1=0.5,x=1.5,b1=0.1,w2=-0.3,b2=0.2,y=1")
    doc = json.loads(run(*args, "--json"))
    page = open_page(browser, tmp_path, *args)
    for node in doc["nodes"]:
        page.click("#next")
        assert number(page, f'[data-cell-value="{node["name"]}"]') == node["value"]
    for k, step in enumerate(doc["backward"], start=1):
        page.click("#next")
        text = page.inner_text("#step-text")
        assert text.startswith(f"Backward step {k} of {len(doc['backward'])}: ∂L/∂{step['input']} += upstream × local")
        assert number(page, f'[data-cell-adjoint="{step["input"]}"]') == step["adjoint"]
        edge = page.locator(f'#graph .edge.current[data-from="{step["input"]}"][data-to="{step["node"]}"]')
        assert edge.count() == 1  # the edge of the step is the one highlighted
    for name, value in doc["gradient"].items():
        assert number(page, f'[data-cell-adjoint="{name}"]') == value
        assert float(page.get_attribute(f'[data-gradient="{name}"]', "data-value")) == value
    page.click("#reset")
    assert page.inner_text("#step-counter") == f"step 0 of {len(doc['nodes']) + len(doc['backward'])}"


def test_the_page_works_offline_with_names_contrast_and_print(browser: Any, tmp_path: Path) -> None:
    page = open_page(browser, tmp_path, "grad", "c = a*b; d = c + 1; loss = d^2", "--at", "a=2,b=3")
    source = page.content()
    assert "<link" not in source and "src=" not in source and "@import" not in source  # nothing fetched
    assert page.get_attribute("html", "lang") == "en"
    for button in page.locator("button").all():
        assert (button.get_attribute("aria-label") or button.inner_text()).strip()
    assert page.locator("#graph > title").count() == 1 and page.get_attribute("#graph", "role") == "img"
    assert page.locator("th[scope]").count() > 0
    ratios = page.evaluate(
        """() => {
        const rgb = (c) => c.match(/[0-9.]+/g).slice(0, 3).map(Number).map((v) => {
            v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        const lum = (c) => { const [r, g, b] = rgb(c); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
        const back = (el) => { while (el) { const b = getComputedStyle(el).backgroundColor;
            if (b && !b.startsWith('rgba(0, 0, 0, 0)') && b !== 'transparent') return b; el = el.parentElement; }
            return 'rgb(255, 255, 255)'; };
        return [...document.querySelectorAll('h1, h2, p, td, th, button, caption')].map((el) => {
            const a = lum(getComputedStyle(el).color), b = lum(back(el));
            return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); });
    }"""
    )
    assert min(ratios) >= 4.5  # WCAG AA for normal text
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('.controls')).display") == "none"
    assert page.is_visible("#backward")


def test_check_has_a_page_with_its_verdict(browser: Any, tmp_path: Path) -> None:
    page = open_page(browser, tmp_path, "check", "sin(x^2)", "cos(x^2)")
    assert "Verdict: wrong" in page.inner_text("#verdict")
    assert page.locator("math").count() >= 2


def test_the_screenshot_in_docs_shows_what_the_page_shows_today(browser: Any, tmp_path: Path) -> None:
    """docs/lesson-page.png is the page after every backward step; docs/lesson-page.json holds the
    values it shows, which the page must still show (docs/render_screenshot.py makes both)."""
    shown = json.loads((ROOT / "docs" / "lesson-page.json").read_text())
    assert (ROOT / "docs" / "lesson-page.png").stat().st_size > 10_000
    page = open_page(browser, tmp_path, *shown["command"])
    while not page.is_disabled("#next"):
        page.click("#next")
    for name, value in shown["adjoints"].items():
        assert number(page, f'[data-cell-adjoint="{name}"]') == value
    for name, value in shown["values"].items():
        assert number(page, f'[data-cell-value="{name}"]') == value


TENSOR = ("grad", "z = W @ x + b; h = tanh(z); L = sum(h^2)", "--shape", "W=3x2,x=2,b=3", "--seed", "0")


def numbers(text: str) -> Any:
    """The numbers a cell shows (a tensor in the text view's notation), in reading order."""
    import re

    import numpy as np

    return np.array([float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text.replace("−", "-"))])


def tensor_oracle(doc: dict[str, Any]) -> dict[str, Any]:
    """∂L/∂W, ∂L/∂x, ∂L/∂b of sum(tanh(W x + b)²) by autograd, at the values the document drew."""
    import autograd.numpy as anp
    import numpy as np
    from autograd import grad

    point = {v: np.array(d["value"], dtype=float) for v, d in doc["variables"].items()}

    def loss(w: Any, x: Any, b: Any) -> Any:
        return anp.sum(anp.tanh(anp.dot(w, x) + b) ** 2)

    args = (point["W"], point["x"], point["b"])
    return {name: grad(loss, k)(*args) for k, name in enumerate(("W", "x", "b"))}


def test_a_tensor_program_has_the_same_lesson_page(browser: Any, tmp_path: Path) -> None:
    import numpy as np

    doc = json.loads(run(*TENSOR, "--json"))
    path = tmp_path / "page.html"
    path.write_text(run(*TENSOR, "--format", "html"), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(path.as_uri())
    layers = [n for n in doc["nodes"] if n["rule"] != "variable"]
    total = len(layers) + len(doc["backward"])
    assert page.inner_text("#step-counter") == f"step 0 of {total}"
    for k, node in enumerate(layers, start=1):  # forward: each value, with its shape
        page.click("#next")
        text = page.inner_text("#step-text")
        assert text.startswith(f"Forward step {k} of {len(layers)}: {node['name']} = ")
        shape = "×".join(map(str, node["shape"])) or "scalar"
        assert text.endswith(f"({shape})"), text
        shown = numbers(page.inner_text(f'[data-cell-value="{node["name"]}"]'))
        assert np.allclose(shown, np.ravel(node["value"]), rtol=1e-3, atol=1e-12)
    for k, step in enumerate(doc["backward"], start=1):  # backward: each vector–Jacobian product
        page.keyboard.press("ArrowRight")
        text = page.inner_text("#step-text")
        assert text.startswith(f"Backward step {k} of {len(doc['backward'])}: ∂L/∂{step['input']} += {step['rule']}")
        edge = page.locator(f'#graph .edge.current[data-from="{step["input"]}"][data-to="{step["node"]}"]')
        assert edge.count() == 1
    assert "∂L/∂W += ∂L/∂u1·xᵀ" in page.inner_text("#layers")  # the local rule of the matrix product
    oracle = tensor_oracle(doc)
    for name, expected in oracle.items():  # the adjoints the page ends on, and the gradient it states
        assert np.allclose(numbers(page.inner_text(f'[data-cell-adjoint="{name}"]')), expected.ravel(), rtol=1e-3)
        stated = json.loads(page.get_attribute(f'[data-gradient="{name}"]', "data-value"))
        assert np.allclose(stated, expected, rtol=1e-12, atol=1e-15)
    assert page.is_disabled("#next")
    page.keyboard.press("Home")
    assert page.inner_text('[data-cell-adjoint="W"]') == "?"
    assert problems == []


def test_a_large_tensor_is_summarised_on_the_page(browser: Any, tmp_path: Path) -> None:
    import numpy as np

    args = ("grad", "h = relu(W @ x); L = sum(h)", "--shape", "W=8x5,x=5", "--seed", "3")
    doc = json.loads(run(*args, "--json"))
    page = open_page(browser, tmp_path, *args)
    while not page.is_disabled("#next"):
        page.click("#next")
    w = np.array(doc["gradient"]["W"]["value"])
    shown = page.inner_text('[data-cell-adjoint="W"]')
    assert shown.startswith("8×5: min ")  # 40 entries: by their range, mean and norm, as the text view
    low, high, mean, norm = numbers(shown.split(":", 1)[1])
    assert np.allclose([low, high, mean, norm], [w.min(), w.max(), w.mean(), np.linalg.norm(w)], rtol=5e-3, atol=1e-9)
