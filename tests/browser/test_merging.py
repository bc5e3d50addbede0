"""The merging page in a real browser: numbers on load, a slider move changes them, bad knobs say why."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

SUMMARY = re.compile(r"Normalised average \d+\.\d%")


def _open(page, gradio_url):
    page.goto(f"{gradio_url}/merging")
    expect(page.get_by_role("heading", name="Merging", level=1)).to_be_visible()
    summary = page.locator("#merging-summary")
    expect(summary).to_contain_text(SUMMARY, timeout=120_000)
    return summary


def test_moving_a_lambda_slider_updates_the_accuracy(gradio_url, page):
    summary = _open(page, gradio_url)
    expect(page.locator(".js-plotly-plot").nth(3)).to_be_visible(timeout=120_000)  # curve + heatmap drawn
    page.wait_for_timeout(1500)  # let plotly finish drawing before the screenshot
    screenshot(page, "merging")
    before = SUMMARY.search(summary.inner_text()).group(0)
    box = page.get_by_label("number input for lambda rotated")
    box.fill("1.2")
    box.press("Enter")
    expect(summary).not_to_contain_text(before, timeout=60_000)
    expect(summary).to_contain_text(SUMMARY)
    assert "Traceback" not in page.content()


def test_zero_weights_for_the_linear_average_show_a_message(gradio_url, page):
    _open(page, gradio_url)
    page.get_by_label("Method").click()
    page.get_by_role("option", name="Linear average").click()
    for task in ("rotated", "inverted", "upside_down"):
        box = page.get_by_label(f"number input for lambda {task}")
        box.fill("0")
        box.press("Enter")
    expect(page.get_by_text("sum to zero").first).to_be_visible(timeout=60_000)
