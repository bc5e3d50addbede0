"""Spectral page in a real browser: the built-in runs view fills its table and plots on load."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_builtin_runs_view_shows_table_curves_and_heatmap(gradio_url, page):
    page.goto(f"{gradio_url}/spectral")
    table = page.locator("#spectral-table")
    expect(table).to_contain_text("LoRA r=1", timeout=180_000)
    expect(table).to_contain_text("Full FT")
    for plot in ("curve", "bars", "heat", "spec"):
        expect(page.locator(f"#spectral-{plot} .js-plotly-plot")).to_be_visible(timeout=120_000)
    expect(page.locator("#spectral-mitigation")).to_contain_text("LoRA r=1", timeout=120_000)
    page.locator("#spectral-live-btn").click()  # live mitigation of the first shipped adapter at lambda 0.5
    expect(page.locator("#spectral-live")).to_contain_text("LoRA r=1", timeout=180_000)  # a result row
    assert "Traceback" not in page.content()
    screenshot(page, "spectral")


def test_inspect_tab_analyses_the_bundled_adapter_example(gradio_url, page):
    page.goto(f"{gradio_url}/spectral")
    page.get_by_role("tab", name="Inspect your own checkpoints").click()
    page.locator("#spectral-example").click()
    page.wait_for_timeout(1500)  # let the example paths land in the textboxes
    page.locator("#spectral-analyse").click()
    expect(page.locator("#spectral-own-summary")).to_contain_text("36 matrices analysed", timeout=240_000)
    assert "Traceback" not in page.content()
