"""The MiniLM family on a handful of texts: the cached-blocks shortcut and the shipped task vectors."""
import pytest
import torch

from models.common.text import load_minilm, mean_pool
from models.merging.methods import MergeSettings
from models.merging.minilm import TOP_LAYERS, MiniLMFamily, base_params, checkpoint_path, datasets, load_task_vectors, top_forward

pytestmark = pytest.mark.skipif(not all(checkpoint_path(t).is_file() for t in ("tweets_sentiment", "fortune_topics")),
                                reason="run scripts/train_merging_minilm.py first")
TINY = {"train": 4, "val": 8, "test": 24}


@pytest.fixture(scope="module")
def family():
    return MiniLMFamily(*load_task_vectors(), sizes=TINY)


def test_cached_blocks_plus_top_blocks_equal_the_full_model(family):
    tokenizer, model = load_minilm()
    texts = list(datasets()["tweets_sentiment"].test.texts[:8])
    batch = tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")
    with torch.no_grad():
        full = mean_pool(model(**batch).last_hidden_state, batch["attention_mask"])
        hidden = model(**batch, output_hidden_states=True).hidden_states[TOP_LAYERS[0]]
        ours = top_forward(base_params(), hidden, batch["attention_mask"])
    assert torch.allclose(full, ours, atol=1e-5)


def test_task_vectors_are_small_float16_changes_of_the_top_blocks(family):
    assert set(family.base) == {n for n in family.tuned[0]} and len(family.base) == 8
    for tuned in family.tuned:
        rel = max(((tuned[n] - family.base[n]).norm() / family.base[n].norm()).item() for n in family.base)
        assert 0 < rel < 0.5


def test_lambda_zero_and_one_recover_base_and_fine_tuned(family):
    base_acc = family.accuracies(family.base)
    assert family.accuracies(family.merge(MergeSettings("task_arithmetic", (0.0, 0.0)))) == base_acc
    tuned_first = family.accuracies(family.tuned[0])[0]
    assert family.accuracies(family.merge(MergeSettings("task_arithmetic", (1.0, 0.0))))[0] == pytest.approx(tuned_first)
