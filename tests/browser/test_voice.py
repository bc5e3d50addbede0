"""The Voice page in a real browser: type text, speak, hear a player, see what a recogniser heard;
bad text shows a message."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

SENTENCE = "Seven quiet engineers tested the little voice demo before lunch on a rainy Tuesday."


def test_typing_text_and_speaking_gives_audio_players_with_a_source(gradio_url, page):
    page.goto(f"{gradio_url}/voice")
    expect(page.get_by_role("heading", name="Voice", level=1)).to_be_visible()
    page.get_by_label("Text (English, at most 400 characters)").fill(SENTENCE)
    page.get_by_label("Check the words with an offline speech recogniser").check()
    page.get_by_role("button", name="Speak").click()
    for elem in ("#voice-tts-plain", "#voice-tts-converted"):  # the player holds the decoded WAV as a blob
        expect(page.locator(f"{elem} audio[src]").first).to_have_attribute("src", re.compile(r"^(blob:|http)\S+"),
                                                                             timeout=120_000)
        expect(page.locator(f"{elem} a").first).to_have_attribute("href", re.compile(r"\.wav$"))
    expect(page.get_by_label("Phonemes (espeak-ng IPA)")).to_have_value(re.compile("ˈ"))
    expect(page.get_by_text("s of audio")).to_be_visible()
    heard = page.locator("#voice-tts-heard")
    expect(heard).to_contain_text("converted (blend 1.00)", timeout=60_000)
    expect(heard).to_contain_text("recogniser heard")
    page.wait_for_timeout(1000)  # let plotly finish drawing before the screenshot
    screenshot(page, "voice")
    assert "Traceback" not in page.content()


def test_empty_text_shows_a_clear_message(gradio_url, page):
    page.goto(f"{gradio_url}/voice")
    page.get_by_label("Text (English, at most 400 characters)").fill("   ")
    page.get_by_role("button", name="Speak").click()
    expect(page.get_by_text("There is no text to speak").first).to_be_visible(timeout=60_000)


def test_converter_picker_explains_each_converter(gradio_url, page):
    page.goto(f"{gradio_url}/voice")
    tts_tab = page.get_by_role("tabpanel").first
    expect(tts_tab.get_by_text(re.compile(r"Content encoder.*\d+% of the time"))).to_be_visible()
    tts_tab.get_by_label("mel cepstra (untrained baseline)").check()
    expect(tts_tab.get_by_text(re.compile(r"Mel cepstra.*untrained baseline"))).to_be_visible()
    tts_tab.get_by_label("flow matching, StableVC-lite (trained here)").check()
    expect(tts_tab.get_by_text(re.compile(r"Flow matching.*CPU-minutes"))).to_be_visible()
