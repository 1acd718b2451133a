import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax

from llmcopula.fusion import (
    inverse_adamw,
    inverse_lbfgs,
    inverse_mirror,
    inverse_search,
    relative_kl,
    relative_kl_grad,
    to_relative,
    transfer_matrix,
)

from fusion_toys import random_rotation


def _problem(seed: int, n_vocab: int = 30, n_anchors: int = 12, dim: int = 16, tau: float = 100.0):
    rng = np.random.default_rng(seed)
    E = rng.normal(size=(n_vocab, dim))
    T = transfer_matrix(E, rng.choice(n_vocab, n_anchors, replace=False), tau=tau)
    z = 2.0 * rng.normal(size=n_vocab)
    target = rng.dirichlet(np.full(n_anchors, 0.5))
    return rng, E, T, z, target


def _two_model_case(gap: float):
    """Main model torn between tokens 0 and 1 (logits 2.0 and 2.0 - gap); an assistant living in
    a rotated copy of the embedding space is confident in token 1."""
    rng = np.random.default_rng(7)
    E = rng.normal(size=(30, 16))
    anchors = np.arange(30)
    T_main = transfer_matrix(E, anchors)
    T_assist = transfer_matrix(E @ random_rotation(16, rng), anchors)
    z_main = rng.normal(size=30) - 3.0
    z_main[0], z_main[1] = 2.0, 2.0 - gap
    z_assist = np.full(30, -2.0)
    z_assist[1] = 6.0
    target = 0.5 * (to_relative(softmax(z_main), T_main) + to_relative(softmax(z_assist), T_assist))
    return z_main, T_main, target


@pytest.mark.parametrize("seed", range(4))
def test_analytic_gradient_matches_central_finite_differences(seed):
    _, _, T, z, target = _problem(seed, tau=5.0)
    loss, grad = relative_kl_grad(z, T, target)
    h = 1e-6
    fd = np.array([(relative_kl(z + h * e, T, target) - relative_kl(z - h * e, T, target)) / (2 * h)
                   for e in np.eye(z.size)])
    # Central differences have O(h^2) truncation and O(eps * L / h) rounding error (~1e-10).
    np.testing.assert_allclose(grad, fd, atol=1e-8, rtol=1e-6)
    assert loss > 0


def test_gradient_is_invariant_to_a_shift_of_the_logits_and_sums_to_zero():
    _, _, T, z, target = _problem(1)
    _, g = relative_kl_grad(z, T, target)
    _, g_shift = relative_kl_grad(z + 5.0, T, target)
    np.testing.assert_allclose(g, g_shift, atol=1e-15)
    assert abs(g.sum()) < 1e-15


def test_gradient_vanishes_at_the_main_models_own_relative_vector():
    # Identical models with uniform weights give rbar = softmax(z0) T: z0 is a minimiser.
    _, _, T, z, _ = _problem(2)
    target = 0.5 * to_relative(softmax(z), T) + 0.5 * to_relative(softmax(z), T)
    loss, g = relative_kl_grad(z, T, target)
    assert np.abs(g).max() <= 1e-12
    assert abs(loss) <= 1e-15


def test_batched_rows_are_solved_as_independent_problems():
    _, _, T, _, _ = _problem(3)
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(2, 3, 30))
    R = rng.dirichlet(np.ones(12), size=(2, 3))
    batch = inverse_adamw(Z, T, R)
    for i in range(2):
        for j in range(3):
            single = inverse_adamw(Z[i, j], T, R[i, j])
            np.testing.assert_allclose(batch.logits[i, j], single.logits, atol=1e-14)
    mirror = inverse_mirror(Z, T, R, tol=1e-8)
    single = inverse_mirror(Z[1, 2], T, R[1, 2], tol=1e-8)
    np.testing.assert_allclose(mirror.loss[1, 2], single.loss, atol=1e-12)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
def test_adamw_matches_torch_adamw_with_cosine_annealing():
    torch = pytest.importorskip("torch")
    _, _, T, z, target = _problem(4)
    ours = inverse_adamw(z, T, target, lr=0.15, n_steps=5)
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.AdamW([zt], lr=0.15, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.15 / 4)
    Tt, rt = torch.tensor(T), torch.tensor(target)
    kl = torch.nn.KLDivLoss(reduction="mean")
    for step in range(5):
        opt.zero_grad()
        loss = kl(torch.log(torch.softmax(zt, -1) @ Tt), rt)
        loss.backward()
        if step == 0:
            np.testing.assert_allclose(relative_kl_grad(z, T, target)[1], zt.grad.numpy(),
                                       atol=1e-15, rtol=1e-10)
            assert loss.item() == pytest.approx(float(ours.loss_initial), rel=1e-12)
        opt.step()
        sched.step()
    np.testing.assert_allclose(ours.logits, zt.detach().numpy(), atol=1e-12)


def test_near_tie_flips_to_the_assistants_confident_token_and_the_loss_collapses():
    z, T, target = _two_model_case(gap=0.2)
    res = inverse_adamw(z, T, target)
    assert z.argmax() == 0 and res.logits.argmax() == 1
    assert res.loss < 0.01 * res.loss_initial


def test_large_gap_does_not_flip_and_every_logit_moves_by_at_most_the_adam_step_budget():
    z, T, target = _two_model_case(gap=3.0)
    res = inverse_adamw(z, T, target)
    assert res.logits.argmax() == 0
    # With bias correction, |mhat / sqrt(vhat)| <= sqrt(sum_i w_i^2 / u_i) ~ 1.02 for t <= 5, so
    # step t moves a logit by at most ~1.02 lr_t, plus the weight decay lr_t * 0.01 * |z|.
    lrs = 0.15 / 4 + (0.15 - 0.15 / 4) * (1 + np.cos(np.pi * np.arange(5) / 10)) / 2
    bound = 1.05 * lrs.sum() + 0.01 * lrs.sum() * np.abs(z).max() * 1.1
    change = np.abs(res.logits - z)
    assert change.max() <= bound
    assert change.max() > 0.5 * lrs.sum()  # it does move: a bounded local re-ranking
    assert res.loss < res.loss_initial


@settings(max_examples=60)
@given(seed=st.integers(0, 100_000), n_steps=st.integers(1, 5), lr=st.floats(0.01, 0.2),
       n_vocab=st.integers(3, 40), tau=st.floats(1.0, 100.0))
def test_adamw_lowers_the_loss_in_randomised_cases(seed, n_steps, lr, n_vocab, tau):
    rng = np.random.default_rng(seed)
    n_anchors = int(rng.integers(2, n_vocab + 1))
    E = rng.normal(size=(n_vocab, int(rng.integers(2, 20))))
    T = transfer_matrix(E, rng.choice(n_vocab, n_anchors, replace=False), tau=tau)
    z = rng.normal(size=n_vocab) * rng.uniform(0.1, 4.0)
    target = rng.dirichlet(np.full(n_anchors, rng.uniform(0.2, 3.0)))
    res = inverse_adamw(z, T, target, lr=lr, n_steps=n_steps)
    assert res.loss < res.loss_initial


@pytest.mark.parametrize("seed", range(6))
def test_precise_solvers_reach_a_lower_loss_than_five_adamw_steps(seed):
    _, _, T, z, target = _problem(seed, n_vocab=20, n_anchors=8)
    adam = inverse_adamw(z, T, target)
    mirror = inverse_mirror(z, T, target, tol=1e-9)
    lbfgs = inverse_lbfgs(z, T, target, maxiter=300)
    assert mirror.loss < adam.loss and lbfgs.loss < adam.loss
    # The certificate of the mirror solver bounds what any solver can still gain.
    assert mirror.gap is not None and mirror.gap <= 1e-9
    assert lbfgs.loss >= mirror.loss - mirror.gap - 1e-15


def test_mirror_recovers_the_target_exactly_when_the_transfer_is_a_permutation():
    rng = np.random.default_rng(5)
    perm = rng.permutation(6)
    T = np.eye(6)[perm]
    target = rng.dirichlet(np.ones(6))
    res = inverse_mirror(rng.normal(size=6), T, target)
    np.testing.assert_allclose(softmax(res.logits) @ T, target, atol=1e-9)
    assert res.loss < 1e-12


def test_zero_learning_rate_returns_the_main_logits_unchanged():
    _, _, T, z, target = _problem(6)
    res = inverse_adamw(z, T, target, lr=0.0)
    np.testing.assert_array_equal(res.logits, z)
    np.testing.assert_array_equal(res.loss, res.loss_initial)


@pytest.mark.parametrize("kwargs, match", [
    ({"logits": np.ones(5)}, "logits: last axis must match"),
    ({"logits": np.array([np.nan] + [0.0] * 9)}, "logits: contains 1 non-finite"),
    ({"logits": np.array([np.inf] + [0.0] * 9)}, "logits: contains 1 non-finite"),
    ({"target": np.ones(3) / 3}, r"target: expected shape \(4,\)"),
    ({"target": np.array([1.5, -0.5, 0.0, 0.0])}, "target: must be non-negative"),
    ({"transfer": -np.ones((10, 4))}, "transfer: must be non-negative"),
    ({"lr": -0.1}, "lr: must be a non-negative"),
    ({"n_steps": 2.5}, "n_steps: expected an integer"),
    ({"betas": (1.0, 0.9)}, r"betas: both must lie in \[0, 1\)"),
])
def test_bad_inverse_inputs_raise_value_errors(kwargs, match):
    args = {"logits": np.zeros(10), "transfer": np.ones((10, 4)) / 4, "target": np.ones(4) / 4}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        inverse_adamw(**args)


def test_unknown_inverse_method_is_rejected():
    with pytest.raises(ValueError, match="method: expected 'adamw', 'mirror' or 'lbfgs'"):
        inverse_search(np.zeros(2), np.eye(2), np.ones(2) / 2, method="newton")


@pytest.mark.parametrize("method", ["adamw", "mirror", "lbfgs"])
def test_a_sparse_transfer_gives_the_same_inverse_as_the_dense_one(method):
    _, _, T, z, target = _problem(11)
    opts = {"maxiter": 50} if method != "adamw" else {}
    dense = inverse_search(z, T, target, method=method, **opts)
    sparse = inverse_search(z, sp.csr_array(T), target, method=method, **opts)
    np.testing.assert_allclose(sparse.logits, dense.logits, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(sparse.loss, dense.loss, rtol=1e-9, atol=1e-15)


def test_mirror_inverse_of_a_partition_transfer_reweights_each_group_in_one_step():
    # A shared-prefix transfer partitions the vocabulary; the exact inverse then keeps the main
    # model's distribution inside each group and gives group a the target mass r_a:
    # p*_v = p0_v r_g(v) / q0_g(v). Checked against that closed form.
    rng = np.random.default_rng(12)
    groups = np.array([0, 0, 1, 2, 2, 2, 3, 1])
    T = sp.csr_array((np.ones(8), (np.arange(8), groups)), shape=(8, 4))
    z = rng.normal(size=(3, 8))
    target = rng.dirichlet(np.ones(4), size=3)
    res = inverse_mirror(z, T, target, tol=1e-13)
    p0 = softmax(z, axis=1)
    q0 = np.stack([np.bincount(groups, weights=row, minlength=4) for row in p0])
    expected = p0 * target[:, groups] / q0[:, groups]
    np.testing.assert_allclose(np.exp(res.logits), expected, atol=1e-12)
    assert res.n_iter == 1 and (res.gap < 1e-13).all()
