"""Regenerate the spectral demo's built-in runs: MiniLM fine-tuned on tweet sentiment with full
fine-tuning, LoRA r = 1, 8 (alpha 8 and 16), 64 and rsLoRA r = 64 (identical data, batches and steps).

For each run it writes to ``assets/spectral/runs/`` (plus base.json: the pre-trained model's forgetting probe):
  <run>.json                 recipe, timings, task accuracy, forgetting, and the same after scaling
                             intruders by lambda (the paper's causal test)
  <run>.spectra.safetensors  the compact spectral artefact the page analyses (see models/spectral/analysis.py)
  <run>_adapter/             the peft LoRA adapter (r = 1 and 8 only; the rank-64 adapters exceed 5 MB)
  <run>.head.safetensors     its trained classification head (384 -> 3), for the page's live mitigation
and the full tuned matrices to ``--work-dir`` (not shipped; open them in the page's 'Inspect your own' tab).

    python scripts/finetune_spectral.py                     # all six runs, one after the other
    python scripts/finetune_spectral.py --runs lora_r1 full # a subset (e.g. in two processes)
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.common.checkpoint import save_checkpoint  # noqa: E402
from models.common.text import fortune_topics, load_minilm, tweets_sentiment  # noqa: E402
from models.spectral.analysis import analyse_pair, save_spectra  # noqa: E402
from models.spectral.finetune import (BUILTIN_RUNS, config_dict, evaluate, forgetting, merged_encoder,  # noqa: E402
                                      target_weights, train, with_weights)
from models.spectral.mitigation import intruder_components, intruder_total, scaled_weights  # noqa: E402
from models.spectral.runs import RUNS_DIR, SHIPPED_ADAPTERS, head_path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="*", default=[r.name for r in BUILTIN_RUNS])
    parser.add_argument("--steps", type=int, default=None, help="override every run's step count")
    parser.add_argument("--n-test", type=int, default=600, help="test tweets used for accuracy")
    parser.add_argument("--lambdas", type=float, nargs="*", default=[0.0, 0.25, 0.5, 0.75],
                        help="mitigation grid for runs whose tuned weights are not shipped")
    parser.add_argument("--shipped-lambdas", type=float, nargs="*", default=[0.0, 0.5],
                        help="coarser grid for runs with a shipped adapter: the page evaluates those live")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RUNS_DIR)
    parser.add_argument("--work-dir", type=Path, default=Path.home() / ".cache" / "paperlab" / "spectral")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    task, probe = tweets_sentiment(), fortune_topics()
    _, base = load_minilm()
    W0 = target_weights(base)
    if not (args.out / "base.json").is_file():
        (args.out / "base.json").write_text(json.dumps(forgetting(base, probe), indent=2))
    by_name = {r.name: r for r in BUILTIN_RUNS}
    for name in args.runs:
        cfg = by_name[name] if args.steps is None else replace(by_name[name], steps=args.steps)
        t0 = time.time()
        model = train(cfg, task, lambda f, msg, t0=t0: print(f"[{time.time() - t0:6.0f} s] {msg}", flush=True))
        train_s = time.time() - t0
        encoder = merged_encoder(model)
        Wt = target_weights(encoder)
        save_checkpoint(args.work_dir / f"{name}.safetensors", Wt, config_dict(cfg))
        if name in SHIPPED_ADAPTERS:
            model.encoder.save_pretrained(str(args.out / f"{name}_adapter"))
            (args.out / f"{name}_adapter" / "README.md").unlink(missing_ok=True)  # peft's empty model-card template
            save_file({k: v.contiguous() for k, v in model.head.state_dict().items()}, str(head_path(name)))
        t1 = time.time()
        spectra = [analyse_pair(n, W0[n], Wt[n]) for n in Wt]
        save_spectra(args.out / f"{name}.spectra.safetensors", spectra, config_dict(cfg))
        analyse_s = time.time() - t1
        result = {"config": config_dict(cfg), "train_seconds": round(train_s, 1),
                  "analyse_seconds": round(analyse_s, 2), "n_test": args.n_test,
                  **evaluate(encoder, model.head, task, probe, args.n_test)}
        unedited = {k: result[k] for k in ("accuracy", "drift", "topic_1nn")}
        components = intruder_components(Wt, W0)
        total = intruder_total(components)
        result["mitigation"] = [{"lambda": 1.0, "intruders": total, **unedited}]
        for lam in args.shipped_lambdas if name in SHIPPED_ADAPTERS else args.lambdas:
            # lambda only touches intruders: without any, the model is unchanged
            edited = scaled_weights(Wt, components, lam)
            metrics = (evaluate(with_weights(encoder, edited), model.head, task, probe, args.n_test) if total
                       else unedited)
            result["mitigation"].append({"lambda": lam, "intruders": total, **metrics})
            print(f"lambda={lam}: {total} intruders, {metrics}", flush=True)
        result["total_seconds"] = round(time.time() - t0, 1)
        (args.out / f"{name}.json").write_text(json.dumps(result, indent=2))
        print(json.dumps({k: v for k, v in result.items() if k != "mitigation"}), flush=True)


if __name__ == "__main__":
    main()
