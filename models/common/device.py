"""Device choice: CUDA when present, else CPU; PAPERLAB_DEVICE (or app.py --device) overrides."""
import os

import torch

ENV_VAR = "PAPERLAB_DEVICE"


def get_device() -> torch.device:
    """The device every model should use, read at call time so a flag set at start-up wins."""
    wanted = os.environ.get(ENV_VAR, "auto").strip().lower()
    if wanted in ("", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if wanted.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"{ENV_VAR}={wanted} but no CUDA device is available")
    return torch.device(wanted)


def set_device(name: str) -> None:
    """Override the device for this process (used by the --device flag)."""
    torch.device(name if name != "auto" else "cpu")  # validates the name early
    os.environ[ENV_VAR] = name
