"""The digits family end to end: shipped checkpoint, evaluation, Fisher, AdaMerging, sweeps."""
import pytest
import torch

from models.common.checkpoint import load_checkpoint
from models.merging.adamerging import adamerging, entropy
from models.merging.analysis import kept_fraction, sign_conflicts
from models.merging.digits import CHECKPOINT, TASKS, load_digits_family
from models.merging.family import diagonal_fisher, normalised_average, reference
from models.merging.methods import MergeSettings
from models.merging.sweeps import curve, evaluate, grid, kept_by_method


@pytest.fixture(scope="module")
def family():
    return load_digits_family()


@pytest.fixture(scope="module")
def ref(family):
    return reference(family)


def test_reference_matches_training_log(family, ref):
    _, config = load_checkpoint(CHECKPOINT)
    for k, task in enumerate(TASKS):
        assert ref.base[k] == pytest.approx(config["accuracy"][task]["base_test"], abs=1e-3)
        assert ref.tuned[k] == pytest.approx(config["accuracy"][task]["finetuned_test"], abs=1e-3)
        assert ref.tuned[k] > ref.base[k]  # fine-tuning helped every task


def test_lambda_zero_is_the_base_and_one_task_is_its_fine_tuned_model(family, ref):
    assert family.accuracies(family.merge(MergeSettings("task_arithmetic", (0.0, 0.0, 0.0)))) == ref.base
    only_first = family.accuracies(family.merge(MergeSettings("task_arithmetic", (1.0, 0.0, 0.0))))
    assert only_first[0] == pytest.approx(ref.tuned[0])


def test_merging_beats_the_base_on_average(family, ref):
    ev = evaluate(family, MergeSettings("task_arithmetic", (0.3, 0.3, 0.3)), ref)
    assert ev.normalised > normalised_average(ref.base, ref) + 0.02
    assert ev.seconds < 1.0


@pytest.mark.parametrize("settings", [MergeSettings("ties", density=0.0), MergeSettings("dare", (1.0, 1.0, 1.0), drop_rate=1.0)])
def test_extreme_knobs_give_the_base(family, ref, settings):
    merged = family.merge(settings)
    assert kept_fraction(family.base, merged) == 0.0
    assert family.accuracies(merged) == ref.base


def test_every_method_evaluates_and_reports_kept_parameters(family):
    kept = kept_by_method(family, MergeSettings("ties", (0.3, 0.3, 0.3), density=0.2, drop_rate=0.9))
    assert set(kept) == {"Linear average", "Task arithmetic", "TIES", "DARE", "SLERP", "Fisher-weighted average", "LiNeS"}
    assert kept["TIES"] < 0.6 and kept["DARE"] < 0.3 and kept["SLERP"] > 0.95


def test_shipped_fisher_matches_a_fresh_estimate(family):
    fresh = diagonal_fisher(family, 0, n_examples=256)  # as scripts/train_merging_digits.py does
    for name, f in fresh.items():
        assert torch.allclose(f, family.fishers[0][name], rtol=1e-3, atol=1e-9)
        assert (f >= 0).all()


def test_adamerging_lowers_the_entropy(family):
    def total_entropy(lam):
        body = family.merge(MergeSettings("task_arithmetic", tuple(lam)))
        with torch.no_grad():
            return sum(entropy(family.logits(body, k, "val")).item() for k in range(3))
    lam = adamerging(family, steps=20, lr=0.01)
    assert total_entropy(lam) < total_entropy([0.3, 0.3, 0.3])
    assert all(0.0 <= x <= 2.0 for x in lam)


def test_curve_and_grid(family, ref):
    s = MergeSettings("task_arithmetic", (0.3, 0.3, 0.3))
    evals = curve(family, s, ref, [0.0, 0.3])
    assert evals[0].accuracies == ref.base
    g = grid(family, s, ref, (0, 1), [0.0, 0.3, 0.6])
    assert g.shape == (3, 3)
    assert g[1, 1] == pytest.approx(evals[1].normalised)


def test_sign_conflicts_on_hand_made_vectors():
    base = {"layers.0.w": torch.zeros(4)}
    tuned = [{"layers.0.w": torch.tensor([1.0, 1.0, -1.0, 0.0])}, {"layers.0.w": torch.tensor([1.0, -1.0, 1.0, 2.0])}]
    assert sign_conflicts(base, tuned) == {"layers.0.w": 0.5}
    assert sign_conflicts(base, tuned, density=0.25) == {"layers.0.w": 0.0}  # only the 2.0 survives in model 2
