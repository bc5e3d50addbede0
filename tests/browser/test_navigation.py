"""Both front ends start, and every page is reachable through their navigation."""
import pytest
from playwright.sync_api import expect

from apps.catalogue import DEMOS
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_gradio_home_and_every_page_through_the_navbar(gradio_url, page):
    page.goto(gradio_url + "/")
    expect(page.get_by_role("heading", name="PaperLab", exact=True)).to_be_visible()
    for d in DEMOS:  # the home page tells what each demo is and links to it
        expect(page.get_by_role("heading", name=d.title, exact=True)).to_be_visible()
    expect(page.get_by_text("Environment report")).to_be_visible()
    screenshot(page, "home")
    for d in DEMOS:
        page.get_by_role("link", name=d.title, exact=True).first.click()
        expect(page).to_have_url(f"{gradio_url}/{d.slug}")
        expect(page.get_by_role("heading", level=1).first).to_contain_text(d.title.split()[0])
        assert "Traceback" not in page.content()


def test_gradio_environment_report_downloads(gradio_url, page):
    page.goto(gradio_url + "/")
    page.get_by_text("Environment report").click()
    page.get_by_role("button", name="Make report").click()
    expect(page.get_by_text("paperlab-environment.json").last).to_be_visible()


def test_streamlit_every_page_renders_without_exception(streamlit_url, page):
    page.goto(streamlit_url + "/")
    expect(page.get_by_role("heading", name="PaperLab").first).to_be_visible(timeout=90_000)
    for d in DEMOS:
        page.goto(f"{streamlit_url}/{d.slug}")
        main = page.locator("[data-testid='stMain']")
        expect(main.get_by_role("heading", level=1).first).to_contain_text(d.title.split()[0], timeout=120_000)
        expect(page.locator("[data-testid='stException']")).to_have_count(0)
    screenshot(page, "streamlit")
