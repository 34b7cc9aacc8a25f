"""Block selection rules of :func:`numopt.coordinate.bcd`: one function per rule.

Each rule maps the run state (a ``_BCDRun``: gradient mapping ``s``, block
data, ``rng``, iteration count) to ``(block id, indices)``; the block id is
-1 for variable blocks. :data:`SELECT_FIXED` serves fixed partitions,
:data:`SELECT_VARIABLE` blocks chosen anew each iteration
(``partition='variable'``).
"""
import numpy as np

__all__ = ["SELECT_FIXED", "SELECT_VARIABLE", "GREEDY", "power_lmax"]

GREEDY = ("gs", "gsl", "gsd", "gsq")


def _iht_select(run, s, score_init, tau, n_steps=10):
    """Approximate GSQ for variable blocks by iterative hard thresholding.

    Approximately maximizes ``s_bᵀ H_b⁻¹ s_b`` over ``|b| = tau`` by running
    projected gradient steps on ``min_d sᵀd + ½ dᵀ H d`` with the sparsity
    constraint ``‖d‖₀ <= tau`` (``H`` the Hessian bound), starting from the
    GSL choice; returns the support of the final ``d``.
    """
    problem = run.problem
    n = s.shape[0]
    idx = np.argpartition(-score_init, tau - 1)[:tau]
    Lg = max(run.bound_lmax(), 1e-300)
    d = np.zeros(n)
    d[idx] = -s[idx] / problem._L_safe[idx]
    for _ in range(n_steps):
        grad = s + problem.bound_matvec(d)
        d = d - grad / Lg
        keep = np.argpartition(-np.abs(d), tau - 1)[:tau]
        mask = np.zeros(n, dtype=bool)
        mask[keep] = True
        d[~mask] = 0.0
    idx = np.flatnonzero(d)
    if idx.size < tau:  # pad with the best remaining GSL scores
        rest = np.setdiff1d(np.argsort(-score_init), idx, assume_unique=False)
        idx = np.concatenate([idx, rest[:tau - idx.size]])
    return np.sort(idx[:tau]).astype(np.int64)


def power_lmax(problem, rng, n_iter=30):
    """Power-iteration estimate (with a 1% margin) of ``λ_max`` of the Hessian bound."""
    v = rng.standard_normal(problem.n)
    lam = 0.0
    for _ in range(n_iter):
        w = problem.bound_matvec(v)
        lam = float(np.linalg.norm(w))
        if lam == 0:
            break
        v = w / lam
    return lam * 1.01


# -- selection rules: name -> function(run) -> (block id or -1, indices) -------------------
def _fixed(rule):
    """Wrap a rule returning a block id for fixed partitions."""
    def select(run):
        bid = rule(run)
        return bid, run.blocks[bid]
    select.__doc__ = rule.__doc__
    return select


@_fixed
def _select_cyclic(run):
    """Blocks in order."""
    return run.nit % run.nb


@_fixed
def _select_permutation(run):
    """A fresh random permutation of the blocks every epoch."""
    if run.nit % run.nb == 0 or run.perm is None:
        run.perm = run.rng.permutation(run.nb)
    return int(run.perm[run.nit % run.nb])


@_fixed
def _select_random_block(run):
    """Uniformly random block."""
    return int(run.rng.integers(run.nb))


@_fixed
def _select_lipschitz_block(run):
    """Random block with probability ∝ ``L_b``."""
    return int(run.rng.choice(run.nb, p=run.pB))


def _block_scores(run, w):
    """Sums of the coordinate scores ``w`` over each block."""
    return np.add.reduceat(w[run.concat], run.starts)


@_fixed
def _select_gs_block(run):
    """Greedy: largest ``‖s_b‖²``."""
    return int(np.argmax(_block_scores(run, run.s * run.s)))


@_fixed
def _select_gsl_block(run):
    """Greedy: largest ``‖s_b‖² / L_b``."""
    return int(np.argmax(_block_scores(run, run.s * run.s) / run.Lb_safe))


@_fixed
def _select_gsd_block(run):
    """Greedy: largest ``Σ_{i∈b} s_i² / d_i``."""
    return int(np.argmax(_block_scores(run, run.s * run.s / run.dd)))


@_fixed
def _select_gsq_block(run):
    """Greedy: largest ``s_bᵀ H_b⁻¹ s_b`` (pseudo-inverses precomputed)."""
    s = run.s
    sp_ = np.where(run.padded >= 0, s[np.maximum(run.padded, 0)], 0.0)
    return int(np.argmax(np.einsum("bi,bij,bj->b", sp_, run.Hinv, sp_)))


SELECT_FIXED = {"cyclic": _select_cyclic, "permutation": _select_permutation,
                 "random": _select_random_block, "lipschitz": _select_lipschitz_block,
                 "gs": _select_gs_block, "gsl": _select_gsl_block, "gsd": _select_gsd_block,
                 "gsq": _select_gsq_block}


def _top(score, tau):
    return np.sort(np.argpartition(-score, tau - 1)[:tau]).astype(np.int64)


def _select_random_coords(run):
    return -1, np.sort(run.rng.choice(run.problem.n, run.tau, replace=False))


def _select_lipschitz_coords(run):
    return -1, np.sort(run.rng.choice(run.problem.n, run.tau, replace=False, p=run.pL))


def _select_gs_coords(run):
    return -1, _top(run.s * run.s, run.tau)


def _select_gsl_coords(run):
    return -1, _top(run.s * run.s / run.Lsafe, run.tau)


def _select_gsd_coords(run):
    return -1, _top(run.s * run.s / run.dd, run.tau)


def _select_gsq_coords(run):
    return -1, _iht_select(run, run.s, run.s * run.s / run.Lsafe, run.tau)


SELECT_VARIABLE = {"random": _select_random_coords, "lipschitz": _select_lipschitz_coords,
                    "gs": _select_gs_coords, "gsl": _select_gsl_coords,
                    "gsd": _select_gsd_coords, "gsq": _select_gsq_coords}
