"""Forecasting page in a real browser: the default run shows results and cycles; a bad CSV shows
a message and the page keeps working."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_default_run_shows_cycle_plot_and_results_then_bad_csv_message(gradio_url, page, tmp_path):
    page.goto(f"{gradio_url}/forecasting")
    results = page.locator("#forecasting-results")
    expect(results).to_contain_text("CycleNet/Linear", timeout=180_000)
    expect(results).to_contain_text("SparseTSF/Linear")
    expect(page.locator("#forecasting-cycles .js-plotly-plot")).to_be_visible(timeout=60_000)
    expect(page.locator("#forecasting-forecast .js-plotly-plot")).to_be_visible(timeout=60_000)
    expect(page.locator("#forecasting-status")).to_contain_text("bundled checkpoint")
    assert "Traceback" not in page.content()
    screenshot(page, "forecasting")

    bad = tmp_path / "bad.csv"
    bad.write_text("date,value\n2024-01-01,1\n2024-01-01,2\n2024-01-02,3\n")
    page.locator("input[type=file]").first.set_input_files(str(bad))
    expect(page.get_by_text("duplicated timestamps").first).to_be_visible(timeout=60_000)
    expect(results).to_contain_text("CycleNet/Linear")  # earlier results stay; the server keeps serving
