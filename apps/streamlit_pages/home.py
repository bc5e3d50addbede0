"""Home page in Streamlit: the same catalogue as the Gradio home page."""
import streamlit as st

from apps.catalogue import DEMOS, papers_markdown


def render() -> None:
    st.title("PaperLab")
    st.write("Recent machine-learning papers as hands-on tools: real models, real data, honest "
             "numbers. Every demo runs on a laptop CPU; pick one in the sidebar.")
    for d in DEMOS:
        with st.container(border=True):
            st.subheader(d.title)
            st.write(d.summary)
            st.markdown(f"**Start:** {d.how_to_start}\n\n{papers_markdown(d)}")
