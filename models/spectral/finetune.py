"""Fine-tune MiniLM on tweet sentiment with full fine-tuning or LoRA, then measure what it forgot.

Every run sees the same batches in the same order (one seed), so runs differ only in how the
weights may move. The classifier is mean pooling (MiniLM's own sentence pooling) plus a linear
head; the head is always trained in full, the encoder either in full or through LoRA adapters on
the attention (query, key, value, output) and feed-forward (intermediate, output) dense layers.
"""
from __future__ import annotations

import copy
import functools
import random
import re
import time
from dataclasses import asdict, dataclass

import torch
from torch import nn

from models.common.progress import Progress, report
from models.common.text import TextDataset, embed, load_minilm, mean_pool

TARGET_REGEX = (r".*encoder\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output\.dense"
                r"|intermediate\.dense|output\.dense)")
"""The 36 linear layers of MiniLM's 6 blocks that every run adapts (the pooler is left out)."""


@dataclass(frozen=True)
class RunConfig:
    """One fine-tuning recipe. LoRA uses a fixed alpha, so the standard scale alpha/r shrinks
    with rank while rsLoRA's alpha/sqrt(r) does not: the contrast rank-stabilised LoRA is about."""
    name: str
    method: str = "full"  # "full" or "lora"
    rank: int = 0
    rslora: bool = False
    alpha: float = 8.0
    lr: float = 1e-4  # encoder learning rate; the head always uses HEAD_LR
    steps: int = 240
    batch_size: int = 32
    max_length: int = 48
    seed: int = 0

    @property
    def label(self) -> str:
        if self.method == "full":
            return "Full FT"
        alpha = "" if self.alpha == RunConfig.alpha else f", alpha={self.alpha:g}"
        return f"{'rsLoRA' if self.rslora else 'LoRA'} r={self.rank}{alpha}"


HEAD_LR = 1e-3
LORA_LR = 3e-3
"""30x the full fine-tune's 1e-4: LoRA is usually run at a much larger step than full fine-tuning (the LoRA
paper's RoBERTa recipes use 4e-4 to 5e-4, RoBERTa's own full fine-tuning 1e-5 to 3e-5).
At 2e-3 (240 steps) LoRA r=8's update stayed too small to displace W0's top-10 singular vectors:
2 intruders at eps = 0.5 (assets/spectral/lora_r8_lr2e-3.json)."""
BUILTIN_RUNS: tuple[RunConfig, ...] = (
    RunConfig("full"),
    # r = 1's scale alpha/r = 8 is 8x LoRA r=8's: at LORA_LR it overshot (accuracy 0.67, drift 0.58;
    # assets/spectral/lora_r1_lr3e-3.json), so it gets half the step.
    RunConfig("lora_r1", "lora", rank=1, lr=LORA_LR / 2),
    RunConfig("lora_r8", "lora", rank=8, lr=LORA_LR),
    # Same rank as lora_r8 with the common alpha = 2r convention (scale 2 instead of 1):
    # shows how the update's scale, not only the rank, decides whether intruders appear.
    RunConfig("lora_r8_a16", "lora", rank=8, alpha=16.0, lr=LORA_LR),
    RunConfig("lora_r64", "lora", rank=64, lr=LORA_LR),
    # rsLoRA's scale alpha/sqrt(r) is 8x LoRA r=64's: at 2e-3 (120 steps) it overshot (drift 0.57, accuracy
    # 0.70; assets/spectral/rslora_r64_lr2e-3.json), so it gets a 4x smaller step.
    RunConfig("rslora_r64", "lora", rank=64, rslora=True, lr=LORA_LR / 4),
)


class SentenceClassifier(nn.Module):
    """MiniLM encoder -> mean pooling -> linear head."""

    def __init__(self, encoder: nn.Module, n_classes: int):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.config.hidden_size, n_classes)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(mean_pool(hidden, attention_mask))


def fresh_encoder(cfg: RunConfig) -> nn.Module:
    """A private copy of pre-trained MiniLM, wrapped with peft LoRA adapters when ``cfg`` asks for them."""
    _, base = load_minilm()
    encoder = copy.deepcopy(base).train()
    if cfg.method == "full":
        return encoder
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=0.0, use_rslora=cfg.rslora,
                      target_modules=TARGET_REGEX, bias="none")
    return get_peft_model(encoder, lora)


def _batches(data: TextDataset, cfg: RunConfig):
    """Endless seeded shuffles of the training set, identical for every run with the same seed."""
    rng = random.Random(cfg.seed)
    order: list[int] = []
    while True:
        if len(order) < cfg.batch_size:
            extra = list(range(len(data.train)))
            rng.shuffle(extra)
            order += extra
        idx, order = order[:cfg.batch_size], order[cfg.batch_size:]
        yield [data.train.texts[i] for i in idx], torch.tensor([data.train.labels[i] for i in idx])


def train(cfg: RunConfig, data: TextDataset, progress: Progress | None = None) -> SentenceClassifier:
    """Run ``cfg.steps`` AdamW steps (linear warm-up over 10 %, then constant) and return the model."""
    torch.manual_seed(cfg.seed)
    tokenizer, _ = load_minilm()
    model = SentenceClassifier(fresh_encoder(cfg), len(data.label_names))
    body = [p for p in model.encoder.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": body, "lr": cfg.lr}, {"params": model.head.parameters(), "lr": HEAD_LR}],
                            weight_decay=0.0)
    warmup = max(1, cfg.steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))
    loss_fn = nn.CrossEntropyLoss()
    batches = _batches(data, cfg)
    start = time.time()
    for step in range(cfg.steps):
        texts, labels = next(batches)
        enc = tokenizer(texts, padding=True, truncation=True, max_length=cfg.max_length, return_tensors="pt")
        loss = loss_fn(model(enc["input_ids"], enc["attention_mask"]), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 10 == 0 or step == cfg.steps - 1:
            eta = (time.time() - start) / (step + 1) * (cfg.steps - step - 1)
            report(progress, (step + 1) / cfg.steps, f"{cfg.label}: step {step + 1}/{cfg.steps}, "
                   f"loss {loss.item():.3f}, about {eta:.0f} s left")
    return model.eval()


def merged_encoder(model: SentenceClassifier) -> nn.Module:
    """A plain BertModel with any LoRA adapter merged in (W0 + scale * B A), for analysis and editing."""
    encoder = copy.deepcopy(model.encoder)
    if hasattr(encoder, "merge_and_unload"):
        encoder = encoder.merge_and_unload()
    return encoder.eval()


def target_weights(encoder: nn.Module) -> dict[str, torch.Tensor]:
    """The adapted matrices of a plain (merged) encoder, keyed like MiniLM's safetensors names."""
    pattern = re.compile(TARGET_REGEX)
    return {f"{name}.weight": module.weight.detach() for name, module in encoder.named_modules()
            if isinstance(module, nn.Linear) and pattern.fullmatch(name)}


@torch.no_grad()
def accuracy(encoder: nn.Module, head: nn.Linear, texts, labels, max_length: int = 64,
             batch_size: int = 64) -> float:
    """Task accuracy of encoder + head on a labelled split."""
    tokenizer, _ = load_minilm()
    correct = 0
    for start in range(0, len(texts), batch_size):
        enc = tokenizer(list(texts[start:start + batch_size]), padding=True, truncation=True,
                        max_length=max_length, return_tensors="pt")
        hidden = encoder(**enc).last_hidden_state
        pred = head(mean_pool(hidden, enc["attention_mask"])).argmax(-1)
        correct += int((pred == torch.tensor(labels[start:start + batch_size])).sum())
    return correct / max(1, len(texts))


def forgetting(encoder: nn.Module, probe: TextDataset) -> dict[str, float]:
    """How far the tuned encoder moved from pre-trained MiniLM's behaviour on held-out, off-task text.

    - ``drift``: 1 - mean cosine between the base and tuned sentence embeddings of the probe texts
      (0 = embeddings unchanged).
    - ``topic_1nn``: leave-one-out nearest-neighbour topic accuracy of the tuned embeddings, a
      pre-trained skill (sentence similarity) the sentiment task never trained.
    """
    tokenizer, _ = load_minilm()
    texts, labels = probe.test.texts, torch.tensor(probe.test.labels)
    tuned = embed(texts, tokenizer, encoder)
    ref = _base_embeddings(probe)
    sim = tuned @ tuned.T
    sim.fill_diagonal_(-2.0)
    nn_acc = float((labels[sim.argmax(1)] == labels).float().mean())
    return {"drift": float(1.0 - (tuned * ref).sum(1).mean()), "topic_1nn": nn_acc}


@functools.cache
def _base_embeddings(probe: TextDataset) -> torch.Tensor:
    """Pre-trained embeddings of the probe texts, computed once per process."""
    tokenizer, base = load_minilm()
    return embed(probe.test.texts, tokenizer, base)


def evaluate(encoder: nn.Module, head: nn.Linear, task: TextDataset, probe: TextDataset,
             n_test: int | None = None) -> dict[str, float]:
    """Task accuracy on (the first ``n_test`` of) the test split plus the forgetting measures."""
    texts, labels = task.test.texts[:n_test], task.test.labels[:n_test]
    return {"accuracy": accuracy(encoder, head, texts, labels), **forgetting(encoder, probe)}


def with_weights(encoder: nn.Module, weights: dict[str, torch.Tensor]) -> nn.Module:
    """A copy of ``encoder`` whose named matrices are replaced by ``weights``."""
    edited = copy.deepcopy(encoder)
    state = edited.state_dict()
    state.update({k: v.to(state[k].dtype) for k, v in weights.items()})
    edited.load_state_dict(state)
    return edited


def config_dict(cfg: RunConfig) -> dict:
    """The run's recipe as plain JSON, stored beside its artefacts."""
    return {**asdict(cfg), "label": cfg.label, "head_lr": HEAD_LR, "target_modules": TARGET_REGEX}
