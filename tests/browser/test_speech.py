"""Speech page in a real browser: the enhancement example end to end, and a bad upload."""
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def open_speech(page, gradio_url):
    page.goto(f"{gradio_url}/speech")
    expect(page.get_by_role("button", name="Enhance")).to_be_visible(timeout=120_000)


def test_enhancement_example_plays_and_scores(page, gradio_url):
    open_speech(page, gradio_url)
    page.get_by_label("PaperLab FRCRN").check()  # already checked by default; idempotent
    page.get_by_role("button", name="Enhance").click()
    table = page.locator("#speech-metrics")
    expect(table.get_by_text("PESQ-WB").first).to_be_visible(timeout=300_000)  # (progress text has no header)
    expect(table.get_by_text("DeepFilterNet3").first).to_be_visible()
    link = page.locator("#speech-player-1 a[download]")  # Gradio's player loads its source from this URL
    expect(link).to_have_attribute("href", re.compile(r"\.wav$"), timeout=60_000)
    wav = page.request.get(link.get_attribute("href"))
    assert wav.ok and wav.body()[:4] == b"RIFF" and len(wav.body()) > 16000
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
    page.set_viewport_size({"width": 1280, "height": 900})
    path = screenshot(page, "speech")
    Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)  # README asset < 500 KB


def test_bad_upload_shows_a_message(page, gradio_url, tmp_path):
    open_speech(page, gradio_url)
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio at all")
    page.get_by_label("Upload a file").first.check()
    page.locator("input[type=file]").first.set_input_files(str(bad))
    page.wait_for_timeout(1500)  # let the upload finish before running
    page.get_by_role("button", name="Enhance").click()
    expect(page.get_by_text("could not be decoded").first).to_be_visible(timeout=120_000)


def test_separation_example_gives_two_speakers_and_si_sdri(page, gradio_url):
    open_speech(page, gradio_url)
    page.get_by_role("tab", name="Separation").click()
    page.get_by_role("button", name="Separate").click()
    table = page.locator("#speech-sep-metrics")
    expect(table.get_by_text("SI-SDRi (dB)").first).to_be_visible(timeout=300_000)
    expect(table.get_by_text("Speaker 2").first).to_be_visible(timeout=60_000)
    rows = re.findall(r"Speaker \d((?:\s+-?[\d.]+){4})", table.inner_text())  # time, RTF, SI-SDR, SI-SDRi
    si_sdri = [float(row.split()[3]) for row in rows]
    assert len(si_sdri) == 2 and sum(si_sdri) > 0, table.inner_text()
    expect(page.locator(".js-plotly-plot:visible").first).to_be_visible(timeout=60_000)
    page.set_viewport_size({"width": 1280, "height": 900})
    path = screenshot(page, "speech_separation")
    Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)  # README asset < 500 KB
