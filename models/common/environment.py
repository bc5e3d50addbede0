"""What this process runs on, for the home page's "environment report" (attach it to bug reports)."""
import os
import platform
from importlib import metadata

import torch

from models.common.device import get_device

PACKAGES = ("torch", "gradio", "streamlit", "numpy", "transformers", "peft", "safetensors")


def environment_report() -> dict:
    """Device, core count and the versions of the packages whose behaviour the demos depend on."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "device": str(get_device()),
        "cuda_available": torch.cuda.is_available(),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }
