"""The shared offline text tasks: fixed, disjoint, stratified splits and a working MiniLM."""
import pytest
import torch

from models.common.text import embed, fortune_topics, load_minilm, tweets_sentiment


@pytest.mark.parametrize("make, n_classes", [(tweets_sentiment, 3), (fortune_topics, 6)])
def test_splits_are_fixed_disjoint_and_cover_every_class(make, n_classes):
    data = make()
    assert len(data.label_names) == n_classes
    splits = (data.train, data.val, data.test)
    for split in splits:
        assert len(split.texts) == len(split.labels) > 0
        assert set(split.labels) == set(range(n_classes))
        assert all(isinstance(t, str) and t for t in split.texts)
    texts = [set(s.texts) for s in splits]
    assert not (texts[0] & texts[1]) and not (texts[0] & texts[2]) and not (texts[1] & texts[2])
    make.cache_clear()
    again = make()
    assert again.train.texts == data.train.texts and again.test.labels == data.test.labels
    other = make(seed=1)
    assert other.train.texts != data.train.texts


def test_tweets_are_balanced_with_the_documented_sizes():
    data = tweets_sentiment()
    assert (len(data.train), len(data.val), len(data.test)) == (4200, 600, 1200)
    assert data.train.labels.count(0) == data.train.labels.count(2) == 1400


def test_minilm_embeds_similar_sentences_closer():
    tokenizer, model = load_minilm()
    assert load_minilm()[1] is model  # cached once per process
    e = embed(["A cat sits on the mat.", "A kitten is sitting on a rug.", "Stock prices fell sharply."],
              tokenizer, model)
    assert e.shape == (3, 384)
    assert torch.allclose(e.norm(dim=1), torch.ones(3), atol=1e-5)
    assert e[0] @ e[1] > e[0] @ e[2] + 0.2
