"""Intruder detection on matrices whose answer is known by construction, and the mitigation edit."""
import torch

from models.spectral.analysis import analyse_pair, eps_curve, layer_counts, summary_table
from models.spectral.intruders import (intruder_count_curve, intruders, max_similarity, numerical_rank, svd,
                                       top_left_singular)
from models.spectral.mitigation import intruder_components, intruder_total, scaled_weights

N = 64


def orthogonal(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.linalg.qr(torch.randn(n, n, generator=g))[0]


def base_matrix() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    U0, V0 = orthogonal(N, 0), orthogonal(N, 1)
    s0 = torch.linspace(10.0, 1.0, N)
    return U0 @ torch.diag(s0) @ V0.T, U0, s0, V0


def planted() -> tuple[torch.Tensor, torch.Tensor]:
    """W0 plus two strong rank-1 directions, each an even mix of 8 of W0's weakest singular
    vectors, so |<x, u0_i>| = 1/sqrt(8) ~ 0.35 < 0.5 for every base vector i: two intruders."""
    W0, U0, _, V0 = base_matrix()
    x1, y1 = U0[:, -8:].sum(1) / 8 ** 0.5, V0[:, -8:].sum(1) / 8 ** 0.5
    x2, y2 = U0[:, -16:-8].sum(1) / 8 ** 0.5, V0[:, -16:-8].sum(1) / 8 ** 0.5
    return W0, W0 + 30.0 * torch.outer(x1, y1) + 25.0 * torch.outer(x2, y2)


def test_planted_intruders_are_found_exactly():
    W0, Wt = planted()
    m = max_similarity(svd(Wt)[0][:, :10], svd(W0)[0])
    assert intruders(m, k=10, eps=0.5) == [0, 1]
    assert torch.allclose(m[:2], torch.full((2,), 8 ** -0.5), atol=0.02)
    assert (m[2:10] > 0.95).all()  # the rest are W0's own top vectors
    curve = intruder_count_curve(m, torch.tensor([0.2, 0.4, 0.9]), k=10)
    assert curve.tolist() == [0, 2, 2]
    assert intruders(m, k=1) == [0]


def test_sign_flips_and_small_rotations_have_no_intruders():
    W0, U0, s0, V0 = base_matrix()
    flips = torch.where(torch.arange(N) % 2 == 0, 1.0, -1.0)
    flipped = (U0 * flips) @ torch.diag(s0) @ (V0 * flips).T  # same matrix, singular vectors sign-flipped
    skew = torch.randn(N, N, generator=torch.Generator().manual_seed(3))
    small_rotation = torch.linalg.matrix_exp(0.002 * (skew - skew.T))
    for Wt in (flipped, small_rotation @ W0, W0 @ small_rotation):
        m = max_similarity(svd(Wt)[0][:, :10], U0)
        assert intruders(m) == []


def test_update_rank_and_spectrum():
    W0, Wt = planted()
    s = analyse_pair("layer.0.dense.weight", W0, Wt)
    assert s.delta_rank == 2
    assert torch.allclose(s.delta_sigma[:2], torch.tensor([30.0, 25.0]), atol=1e-3)
    assert s.intruders(10, 0.5) == 2 and s.sim.shape == (32, N)
    table = summary_table([s])
    assert table.loc[0, "intruders"] == 2 and table.loc[0, "dW_rank"] == 2
    assert eps_curve([s], k=10)[-1] == 2 and eps_curve([s], k=10)[0] == 0
    assert layer_counts([s]).to_dict("records") == [{"layer": "0", "intruders": 2}]


def test_randomized_svd_recovers_the_top_vectors():
    _, Wt = planted()
    U, S, _ = svd(Wt)
    Ur, Sr, _ = top_left_singular(Wt, 5, randomized=True)
    # well-separated top values are exact; the flat bulk (10, 9.86, 9.71 ...) only roughly
    assert torch.allclose(Sr[:2], S[:2], rtol=1e-4)
    assert torch.allclose((Ur[:, :2].T @ U[:, :2]).abs().diagonal(), torch.ones(2), atol=1e-3)
    assert torch.allclose(Sr[:5], S[:5], rtol=0.05)


def test_scaling_intruders_by_lambda():
    W0, Wt = planted()
    components = intruder_components({"w": Wt}, {"w": W0})
    assert intruder_total(components) == 2
    assert torch.equal(scaled_weights({"w": Wt}, components, 1.0)["w"], Wt)
    cleaned = scaled_weights({"w": Wt}, components, 0.0)["w"]
    # Removing Wt's two intruder triplets undoes the planted update (up to the little of W0 they absorbed)
    assert torch.linalg.norm(cleaned - W0) < 0.1 * torch.linalg.norm(Wt - W0)
    assert intruders(max_similarity(svd(cleaned)[0][:, :10], svd(W0)[0])) == []
    assert numerical_rank(torch.linalg.svdvals(cleaned - W0), (N, N)) <= 4
    # lambda = 0.5 halves exactly the two intruder singular values and is halfway between Wt and cleaned
    S = torch.linalg.svdvals(Wt)
    half = scaled_weights({"w": Wt}, components, 0.5)["w"]
    assert torch.allclose(half, (Wt + cleaned) / 2, atol=1e-5)
    S_half = torch.linalg.svdvals(half)
    for sigma in 0.5 * S[:2]:
        assert (S_half - sigma).abs().min() < 1e-3
    # matrices without intruders are left out of the components and returned unchanged
    assert intruder_components({"w": W0}, {"w": W0}) == {}
