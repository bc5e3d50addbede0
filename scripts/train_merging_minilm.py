"""Fine-tune MiniLM per text task for the merging demo -> assets/merging/minilm_<task>.safetensors.

Per task (tweet sentiment, fortune topics):
1. Encode the texts once with the frozen blocks 0-3 (cached hidden states).
2. Fit the task's head on the frozen model's mean-pooled output (linear probe = "base" accuracy).
3. Fine-tune the output projections of blocks 4-5 with that head frozen (Adam, few hundred steps).
4. Save the task vector theta_i - theta_0 in float16 (3 MB) with the head and the accuracies,
   including the accuracy after the float16 round trip (what the page actually uses).

Run: python scripts/train_merging_minilm.py   (a few minutes on 1-2 CPU threads)
"""
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.common.checkpoint import save_checkpoint
from models.merging.minilm import (EVAL_SIZES, Encoded, base_params, checkpoint_path, datasets,
                                   top_forward)

TRAIN_TEXTS = 2000
STEPS = 200
BATCH = 32
LR = 1e-4


def accuracy(params: dict, head: dict, enc: Encoded) -> float:
    with torch.no_grad():
        logits = F.linear(top_forward(params, enc.hidden, enc.mask), head["weight"], head["bias"])
    return (logits.argmax(-1) == enc.labels).float().mean().item()


def main() -> None:
    torch.set_num_threads(1)  # 2 threads spin-wait badly when the cores are shared
    torch.manual_seed(0)
    base = base_params()
    for name, data in datasets().items():
        t0 = time.time()
        train = Encoded(data.train.texts[:TRAIN_TEXTS], data.train.labels[:TRAIN_TEXTS])
        test = Encoded(data.test.texts[:EVAL_SIZES["test"]], data.test.labels[:EVAL_SIZES["test"]])
        print(f"{name}: encoded {len(train)} train / {len(test)} test texts in {time.time() - t0:.0f} s")
        with torch.no_grad():
            pooled = top_forward(base, train.hidden, train.mask)
        head = {"weight": torch.zeros(len(data.label_names), pooled.shape[1], requires_grad=True),
                "bias": torch.zeros(len(data.label_names), requires_grad=True)}
        opt = torch.optim.Adam(head.values(), lr=1e-2)
        for _ in range(300):  # full-batch logistic regression on frozen features
            loss = F.cross_entropy(F.linear(pooled, head["weight"], head["bias"]), train.labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
        head = {k: v.detach() for k, v in head.items()}
        base_acc = accuracy(base, head, test)
        params = {k: v.clone().requires_grad_(True) for k, v in base.items()}
        opt = torch.optim.Adam(params.values(), lr=LR)
        g = torch.Generator().manual_seed(0)
        for step in range(STEPS):
            idx = torch.randint(len(train), (BATCH,), generator=g)
            logits = F.linear(top_forward(params, train.hidden[idx], train.mask[idx]), head["weight"], head["bias"])
            loss = F.cross_entropy(logits, train.labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 50 == 0:
                print(f"  step {step} loss {loss.item():.3f}")
        params = {k: v.detach() for k, v in params.items()}
        delta = {k: (params[k] - base[k]).half() for k in base}
        tuned_acc = accuracy(params, head, test)
        fp16_acc = accuracy({k: base[k] + delta[k].float() for k in base}, head, test)
        config = {"task": name, "labels": list(data.label_names), "steps": STEPS, "batch": BATCH, "lr": LR,
                  "train_texts": len(train), "test_texts": len(test), "base_probe_test": round(base_acc, 4),
                  "finetuned_test": round(tuned_acc, 4), "finetuned_fp16_test": round(fp16_acc, 4),
                  "seconds": round(time.time() - t0, 1), "source": data.source}
        tensors = {**{f"delta.{k}": v for k, v in delta.items()}, **{f"head.{k}": v for k, v in head.items()}}
        path = save_checkpoint(checkpoint_path(name), tensors, config)
        print(f"{name}: base+probe {base_acc:.3f}, fine-tuned {tuned_acc:.3f} (fp16 delta {fp16_acc:.3f}); "
              f"{path.name} {path.stat().st_size / 1e6:.2f} MB, {config['seconds']} s")


if __name__ == "__main__":
    main()
