"""Plotly figures shared by both front ends, one module per demo.

They live in apps/ (not models/) because they are presentation: models/ stays pure
Python/torch/numpy, and Gradio and Streamlit draw the very same figures from these builders.
"""
