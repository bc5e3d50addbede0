"""Pieces every demo needs: errors, progress, device choice, checkpoints and audio I/O."""
