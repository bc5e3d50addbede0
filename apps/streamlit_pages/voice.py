"""The voice page in Streamlit (placeholder until its issue builds it)."""
import streamlit as st

from apps.catalogue import demo, not_built_markdown

DEMO = demo("voice")


def render() -> None:
    st.markdown(not_built_markdown(DEMO))
