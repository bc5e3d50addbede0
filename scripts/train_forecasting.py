"""Train the checkpoints the forecasting page opens with (ETTh1, all 7 channels, L=720, H=96, W=24).

    python scripts/train_forecasting.py                      # every trained model of the default view
    python scripts/train_forecasting.py --models DLinear     # just one

Writes assets/forecasting/checkpoints/*.safetensors. Each model is trained once with seed 2024 and
the reference hyper-parameters (models/forecasting/registry.py); the page re-scores them on the
test set when it loads them. Models outside the default selection (the MLP variants) are trained
in the page on demand.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.forecasting import compare, experiment, registry
from models.forecasting.data import load_bundled, make_splits


def main(argv: list[str] | None = None) -> None:
    cfg = compare.DEFAULT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=[m for m in cfg.models if registry.spec(m).trainable])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2: what the page uses on 2 cores)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    series = load_bundled(cfg.dataset)
    splits = make_splits(series, cfg.L, cfg.H, cfg.W)
    for name in args.models:
        t0 = time.perf_counter()
        trained = experiment.run(name, splits, cfg.dataset, series.columns, seed=cfg.seed)
        path = experiment.save(trained, compare.default_checkpoint(name))
        print(json.dumps({"model": name, "file": path.name, "bytes": path.stat().st_size,
                          "wall_seconds": round(time.perf_counter() - t0, 1), **trained.metrics}), flush=True)


if __name__ == "__main__":
    main()
