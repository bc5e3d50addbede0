"""The Streamlit spectral page renders the built-in runs (table, plots) without any error message."""
from streamlit.testing.v1 import AppTest


def render() -> None:
    from apps.streamlit_pages import spectral

    spectral.render()


def test_streamlit_spectral_shows_builtin_runs():
    at = AppTest.from_function(render, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    runs_table = at.dataframe[0].value
    assert "LoRA r=1" in set(runs_table["run"]) and "Full FT" in set(runs_table["run"])
