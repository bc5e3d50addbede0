"""Fine-tuning spectra: intruder dimensions of LoRA vs full fine-tuning (Shuttleworth et al., 2024).

- ``intruders``: the paper's detection (m_j < eps among the top k).
- ``mitigation``: the paper's causal test, intruder directions scaled by lambda.
- ``analysis``: per-matrix spectral summaries, tables, curves and their file format.
- ``sources``: streaming reads from safetensors files, HF folders and base + peft LoRA adapters.
- ``finetune``: the MiniLM full / LoRA / rsLoRA fine-tunes and the forgetting measures.
- ``runs``: the shipped built-in runs (their plotly views live in apps/figures/spectral.py).
- ``live``: mitigation of the runs with a shipped adapter, re-evaluated in seconds for the page.
"""
