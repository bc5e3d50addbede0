"""Train the digits family for the merging demo -> assets/merging/digits.safetensors.

1. Pre-train the MLP body (+ a throw-away head) on the plain digits' training split.
2. Per task: fit the task's head on the frozen pre-trained body (linear probe), then fine-tune
   the body with that head frozen, as the task-arithmetic paper does with its zero-shot heads.
   A frozen head means every merged body can still be read out by every task's head.
3. Estimate each fine-tuned model's diagonal Fisher on its training inputs (for Fisher merging).

Run: python scripts/train_merging_digits.py   (about 20 s on one CPU thread)
"""
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.common.checkpoint import save_checkpoint
from models.merging.digits import CHECKPOINT, SIZES, TASKS, DigitsFamily, features, init_body, task_data


def fit(params: dict, frozen: dict, x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float,
        forward) -> None:
    """Adam on ``params`` (modified in place) with mini-batches of 64 and cross-entropy."""
    for p in params.values():
        p.requires_grad_(True)
    opt = torch.optim.Adam(params.values(), lr=lr)
    g = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        for idx in torch.randperm(len(y), generator=g).split(64):
            loss = F.cross_entropy(forward({**frozen, **params}, x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    for p in params.values():
        p.requires_grad_(False)


def new_head(seed: int) -> dict:
    torch.manual_seed(seed)
    layer = torch.nn.Linear(SIZES[-1], 10)
    return {"head.weight": layer.weight.data.clone(), "head.bias": layer.bias.data.clone()}


def with_head(p: dict, x: torch.Tensor) -> torch.Tensor:
    return F.linear(features(p, x), p["head.weight"], p["head.bias"])


def accuracy(p: dict, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return (with_head(p, x).argmax(-1) == y).float().mean().item()


def main() -> None:
    torch.set_num_threads(1)
    t0 = time.time()
    base = init_body(0)
    x, y = task_data("plain", "train")
    pretrain_head = new_head(1)
    fit({**base, **pretrain_head}, {}, x, y, epochs=60, lr=1e-3, forward=with_head)
    print(f"pre-trained on plain digits: test acc {accuracy({**base, **pretrain_head}, *task_data('plain', 'test')):.3f}"
          " (this head is not saved)")
    tensors = {f"base.{k}": v for k, v in base.items()}
    config = {"tasks": list(TASKS), "sizes": list(SIZES), "accuracy": {}}
    for k, task in enumerate(TASKS):
        x, y = task_data(task, "train")
        xt, yt = task_data(task, "test")
        head = new_head(10 + k)
        fit(head, base, x, y, epochs=60, lr=3e-3, forward=with_head)  # linear probe
        base_acc = accuracy({**base, **head}, xt, yt)
        body = {n: v.clone() for n, v in base.items()}
        fit(body, head, x, y, epochs=15, lr=5e-4, forward=with_head)  # fine-tune, head frozen
        tuned_acc = accuracy({**body, **head}, xt, yt)
        config["accuracy"][task] = {"base_test": round(base_acc, 4), "finetuned_test": round(tuned_acc, 4)}
        print(f"{task}: base+probe test acc {base_acc:.3f}, fine-tuned {tuned_acc:.3f}")
        tensors.update({f"{task}.body.{n}": v for n, v in body.items()})
        tensors.update({f"{task}.head.{n.split('.')[1]}": v for n, v in head.items()})
    family = DigitsFamily(base, [{n: tensors[f"{t}.body.{n}"] for n in base} for t in TASKS],
                          [{n: tensors[f"{t}.head.{n}"] for n in ("weight", "bias")} for t in TASKS])
    family.ensure_fishers()  # shipped so the Fisher merge is as instant as the others
    for task, fisher in zip(TASKS, family.fishers):
        tensors.update({f"{task}.fisher.{n}": v for n, v in fisher.items()})
    config["seconds"] = round(time.time() - t0, 1)
    save_checkpoint(CHECKPOINT, tensors, config)
    print(f"wrote {CHECKPOINT} ({CHECKPOINT.stat().st_size / 1e6:.2f} MB) in {config['seconds']} s")


if __name__ == "__main__":
    main()
