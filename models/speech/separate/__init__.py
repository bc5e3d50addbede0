"""Two-speaker separation: TIGER-lite (tiger_net.py, tiger.py) and long-input chunking."""
