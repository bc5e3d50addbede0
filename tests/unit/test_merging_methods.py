"""Merge methods on hand-made tensors with known results, and cross-checks against peft and mergekit."""
import math

import pytest
import torch

from models.merging.methods import (MergeSettings, agreement_mask, dare_drop, depth_fractions, disjoint_mean,
                                    elect_signs, merge_state_dicts, merge_tensor, slerp, trim_top_k)

BASE = torch.tensor([0.0, 0.0, 0.0, 0.0])
T1 = torch.tensor([1.0, -2.0, 3.0, 0.5])
T2 = torch.tensor([3.0, 2.0, -1.0, 0.5])


def test_linear_is_weighted_average_of_models():
    out = merge_tensor(BASE, [T1, T2], MergeSettings("linear", (1.0, 3.0)))
    assert torch.allclose(out, (T1 + 3 * T2) / 4)


def test_task_arithmetic_adds_scaled_task_vectors():
    base = torch.ones(4)
    out = merge_tensor(base, [base + T1, base + T2], MergeSettings("task_arithmetic", (0.5, 0.25)))
    assert torch.allclose(out, base + 0.5 * T1 + 0.25 * T2)


def test_ties_trim_keeps_top_k_magnitudes():
    assert torch.equal(trim_top_k(T1, 0.5), torch.tensor([0.0, -2.0, 3.0, 0.0]))
    assert torch.equal(trim_top_k(T1, 0.0), torch.zeros(4))
    assert torch.equal(trim_top_k(T1, 1.0), T1)
    assert torch.count_nonzero(trim_top_k(T1, 0.01)) == 1  # at least one entry survives a positive density


def test_ties_sign_election_and_disjoint_mean():
    deltas = torch.stack([torch.tensor([1.0, -2.0, 3.0, 0.0]), torch.tensor([3.0, 1.0, -1.0, 0.0])])
    assert torch.equal(elect_signs(deltas), torch.tensor([1.0, -1.0, 1.0, 1.0]))  # sum: 4, -1, 2, 0 (-> +)
    assert torch.equal(agreement_mask(deltas), torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]]))
    assert torch.equal(disjoint_mean(deltas), torch.tensor([2.0, -2.0, 3.0, 0.0]))


def test_ties_full_merge_known_result():
    s = MergeSettings("ties", density=0.5, scale=2.0)
    out = merge_tensor(BASE, [T1, T2], s)
    # trimmed: T1 -> [0,-2,3,0], T2 -> [3,2,0,0]; signs +,+(0 sum),+,+; mean of agreeing: [3, 2, 3, 0]
    assert torch.allclose(out, 2.0 * torch.tensor([3.0, 2.0, 3.0, 0.0]))


def test_dare_expected_value_is_the_task_vector():
    delta = torch.randn(2000)
    g = torch.Generator().manual_seed(0)
    mean = torch.stack([dare_drop(delta, 0.7, True, g) for _ in range(400)]).mean(0)
    assert (mean - delta).abs().mean() < 0.06 * delta.abs().mean() * 3  # standard error ~ sqrt(p/(1-p)/400)
    kept = (dare_drop(delta, 0.7, True, g) != 0).float().mean()
    assert abs(kept - 0.3) < 0.05


def test_dare_extremes_and_determinism():
    g = torch.Generator().manual_seed(0)
    assert torch.equal(dare_drop(T1, 1.0, True, g), torch.zeros(4))  # drop rate 1: nothing left, no division by 0
    assert torch.equal(dare_drop(T1, 0.0, True, g), T1)
    s = MergeSettings("dare", (1.0, 1.0), drop_rate=0.5, seed=3)
    a = merge_tensor(BASE, [T1, T2], s, name="w")
    b = merge_tensor(BASE, [T1, T2], s, name="w")
    assert torch.equal(a, b)
    assert torch.equal(merge_tensor(BASE, [T1, T2], MergeSettings("dare", (1.0, 1.0), drop_rate=1.0)), BASE)


def test_dare_with_sign_election_sums_agreeing_entries():
    s = MergeSettings("dare", (1.0, 1.0), drop_rate=0.0, sign_election=True)
    out = merge_tensor(BASE, [T1, T2], s)
    assert torch.allclose(out, torch.tensor([4.0, 2.0, 3.0, 1.0]))  # sums: 4, 0(+), 2, 1


def test_slerp_endpoints_quarter_turn_and_parallel_fallback():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    assert torch.allclose(slerp(0.0, a, b), a) and torch.allclose(slerp(1.0, a, b), b)
    assert torch.allclose(slerp(0.5, a, b), torch.tensor([math.sqrt(0.5), math.sqrt(0.5)]))
    c = torch.tensor([1.0, 1e-4])  # almost parallel to a: linear interpolation instead of 0/0
    assert torch.allclose(slerp(0.25, a, c), 0.75 * a + 0.25 * c)
    assert torch.allclose(slerp(0.5, a, torch.zeros(2)), 0.5 * a)


def test_fisher_merge_matches_weighted_formula():
    f1, f2 = torch.tensor([1.0, 0.0, 2.0, 1.0]), torch.tensor([1.0, 3.0, 0.0, 1.0])
    out = merge_tensor(BASE, [T1, T2], MergeSettings("fisher", (1.0, 2.0)), fishers=[f1, f2])
    expected = (1 * f1 * T1 + 2 * f2 * T2) / (1 * f1 + 2 * f2)
    assert torch.allclose(out, expected, atol=1e-6)


def test_lines_scales_with_depth():
    names = ["embed.weight", "layers.0.w", "layers.1.w", "layers.2.w"]
    depth = depth_fractions(names)
    assert depth == {"embed.weight": 0.0, "layers.0.w": 0.0, "layers.1.w": 0.5, "layers.2.w": 1.0}
    base = {n: torch.zeros(2) for n in names}
    tuned = [{n: torch.ones(2) for n in names}, {n: torch.ones(2) for n in names}]
    out = merge_state_dicts(base, tuned, MergeSettings("lines", (1.0, 1.0), alpha=0.2, beta=0.6))
    assert torch.allclose(out["layers.0.w"], torch.full((2,), 0.4))
    assert torch.allclose(out["layers.1.w"], torch.full((2,), 2 * 0.5))
    assert torch.allclose(out["layers.2.w"], torch.full((2,), 2 * 0.8))


def test_non_float_tensors_are_copied_from_base():
    base = {"w": torch.zeros(2), "ids": torch.arange(3)}
    tuned = [{"w": torch.ones(2), "ids": torch.arange(3) + 5}, {"w": torch.ones(2), "ids": torch.arange(3)}]
    out = merge_state_dicts(base, tuned, MergeSettings("task_arithmetic", (1.0, 1.0)))
    assert torch.equal(out["ids"], base["ids"]) and torch.allclose(out["w"], torch.full((2,), 2.0))


# --- reference implementations -------------------------------------------------------------

def _random(shape=(16, 24), n=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(shape, generator=g)
    return base, [base + 0.1 * torch.randn(shape, generator=g) for _ in range(n)]


def test_ties_agrees_with_peft():
    merge_utils = pytest.importorskip("peft.utils.merge_utils")
    base, tuned = _random()
    ours = merge_tensor(base, tuned, MergeSettings("ties", density=0.3, scale=1.0))
    theirs = base + merge_utils.ties([t - base for t in tuned], torch.ones(3), density=0.3)
    assert torch.allclose(ours, theirs, atol=1e-6)


@pytest.fixture(scope="module")
def mergekit():
    registry = pytest.importorskip("mergekit.merge_methods.registry", reason="mergekit is a test-only reference")
    from mergekit.merge_methods.base import TensorGroup
    return registry.get, TensorGroup


def _mk_merge(mergekit, method, tensors, base_index, parameters):
    get, TensorGroup = mergekit
    group = TensorGroup.from_tensors(tensors, base_index=base_index)
    return get(method)([group], parameters=parameters)[0]


def test_linear_agrees_with_mergekit(mergekit):
    base, tuned = _random()
    ours = merge_tensor(base, tuned, MergeSettings("linear", (0.2, 0.5, 0.3)))
    theirs = _mk_merge(mergekit, "linear", tuned, None, {"weight": {0: 0.2, 1: 0.5, 2: 0.3}, "normalize": True})
    assert torch.allclose(ours, theirs, atol=1e-6)


def test_task_arithmetic_agrees_with_mergekit(mergekit):
    base, tuned = _random()
    ours = merge_tensor(base, tuned, MergeSettings("task_arithmetic", (0.4, 0.7, -0.2)))
    theirs = _mk_merge(mergekit, "task_arithmetic", [base, *tuned], 0,
                       {"weight": {1: 0.4, 2: 0.7, 3: -0.2}, "density": {1: 1.0, 2: 1.0, 3: 1.0}})
    assert torch.allclose(ours, theirs, atol=1e-6)


@pytest.mark.parametrize("density,scale", [(0.2, 1.0), (0.5, 1.5), (1.0, 0.7)])
def test_ties_agrees_with_mergekit(mergekit, density, scale):
    base, tuned = _random()
    ours = merge_tensor(base, tuned, MergeSettings("ties", density=density, scale=scale))
    theirs = _mk_merge(mergekit, "ties", [base, *tuned], 0,
                       {"weight": {1: 1.0, 2: 1.0, 3: 1.0}, "density": {1: density, 2: density, 3: density},
                        "lambda": scale})
    assert torch.allclose(ours, theirs, atol=1e-6)


def test_dare_without_rescale_agrees_with_mergekit_on_the_same_masks(mergekit):
    """Same seed -> same Bernoulli masks; mergekit's rescale (L1 norm) differs by design, so off."""
    base, tuned = _random(n=1)
    s = MergeSettings("dare", (0.8,), drop_rate=0.6, rescale=False, seed=0)
    from models.merging.methods import tensor_seed
    ours = merge_tensor(base, tuned, s, name="w")
    torch.manual_seed(tensor_seed("w", 0))
    theirs = _mk_merge(mergekit, "dare_linear", [base, *tuned], 0,
                       {"weight": {1: 0.8}, "density": {1: 0.4}, "rescale": False})
    assert torch.allclose(ours, theirs, atol=1e-6)


@pytest.mark.parametrize("t", [0.0, 0.3, 0.5, 1.0])
def test_slerp_agrees_with_mergekit_on_flattened_tensors(t):
    mk_slerp = pytest.importorskip("mergekit.merge_methods.slerp")
    a, (b,) = _random(n=1)
    b = b + torch.randn(a.shape)  # far enough from parallel to take the spherical branch
    theirs = mk_slerp.slerp(torch.tensor([t]), a.reshape(1, -1), b.reshape(1, -1)).reshape(a.shape)
    assert torch.allclose(slerp(t, a, b), theirs, atol=1e-5)
