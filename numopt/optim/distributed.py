"""Compressed distributed gradient methods, simulated or on a Dask cluster.

``numopt.optim.distributed`` runs ``n`` workers that each hold a local
objective ``f_i`` and talk to a server through a contractive compressor
(Top-k or random-k): in this process (a simulation), or with ``client=`` as
Dask actors, one per worker, that keep the oracle and its data where they are
and send only the packed compressed messages (:mod:`numopt.optim._dask`).
:class:`EControl` implements the error-feedback mechanism with a control
parameter of Gao, Islamov and Stich (ICLR 2024);
``eta=0`` gives EF21-style compressed gradient differences. Every round
reports the bits each worker sent, so methods can be compared at equal
communication.

The EControl equations, for worker ``i`` with compressor ``C``::

    delta_i = C(eta * e_i + g_i - h_i)
    e_i    <- e_i + g_i - h_i - delta_i
    h_i    <- h_i + delta_i
    x      <- x - lr * mean_i(h_i)

started from ``e_i = 0`` and ``h_i = g_i(x_0)`` (one uncompressed round).
"""
import math

import numpy as np

from .._array_api import device, is_numpy, namespace_and_device
from .._callback import make_callback
from .._result import CALLBACK_STOP, MAXITER, NAN_ENCOUNTERED, SUCCESS, make_result
from .._validation import check_array, check_callable, check_rng, check_scalar
from ._xp import astype, host, namespace_of

__all__ = ["top_k", "random_k", "message_bits", "EControl", "econtrol"]


def _check_k(k, d):
    k = check_scalar(k, "k", lower=1, integer=True)
    return min(k, d)


def top_k(x, k):
    """Keep the ``k`` entries of largest magnitude, zero the rest.

    A contractive compressor: ``||top_k(x) - x||^2 <= (1 - k/d) ||x||^2``.
    A PyTorch, CuPy or other Array API ``x`` is compressed on its device
    (a sort of ``|x|`` there; among entries of equal magnitude the ones kept
    may differ from NumPy's choice).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.optim.distributed import top_k
    >>> top_k(np.array([0.1, -3.0, 2.0, 0.5]), 2)
    array([ 0., -3.,  2.,  0.])
    """
    xp = namespace_of(x)
    if not is_numpy(xp):
        flat = xp.reshape(astype(x, xp.float64, xp), (-1,))
        d = flat.shape[0]
        k = _check_k(k, d)
        rank = xp.argsort(xp.argsort(xp.abs(flat), stable=True))   # rank of |x_i|
        return xp.reshape(xp.where(rank >= d - k, flat, 0.0), x.shape)
    x = np.asarray(x, dtype=np.float64)
    flat = x.ravel()
    k = _check_k(k, flat.size)
    out = np.zeros_like(flat)
    if k >= flat.size:
        out[:] = flat
    else:
        idx = np.argpartition(np.abs(flat), flat.size - k)[flat.size - k:]
        out[idx] = flat[idx]
    return out.reshape(x.shape)


def random_k(x, k, rng=None, *, unbiased=False):
    """Keep ``k`` entries chosen uniformly at random, zero the rest.

    With ``unbiased=False`` (default) the kept entries are unscaled, a
    contractive compressor with ``E||C(x) - x||^2 = (1 - k/d)||x||^2``; with
    ``unbiased=True`` they are scaled by ``d/k`` so that ``E[C(x)] = x``.
    For a PyTorch, CuPy or other Array API ``x`` the indices are drawn by
    ``rng`` on the host (the same draw as for NumPy) and their 0/1 mask is
    copied to ``x``'s device, where the compression runs.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.optim.distributed import random_k
    >>> int(np.count_nonzero(random_k(np.arange(1.0, 11.0), 3, rng=0)))
    3
    """
    xp = namespace_of(x)
    if not is_numpy(xp):
        flat = xp.reshape(astype(x, xp.float64, xp), (-1,))
        d = flat.shape[0]
        k = _check_k(k, d)
        idx = check_rng(rng).choice(d, size=k, replace=False)
        mask = np.zeros(d, dtype=bool)
        mask[idx] = True
        kept = flat * (d / k if unbiased else 1.0)
        return xp.reshape(xp.where(host(mask, xp, device(flat)), kept, 0.0), x.shape)
    x = np.asarray(x, dtype=np.float64)
    flat = x.ravel()
    d = flat.size
    k = _check_k(k, d)
    rng = check_rng(rng)
    idx = rng.choice(d, size=k, replace=False)
    out = np.zeros_like(flat)
    out[idx] = flat[idx] * (d / k if unbiased else 1.0)
    return out.reshape(x.shape)


def message_bits(d, k=None, value_bits=32):
    """Bits of one message: ``k`` values plus their indices, or ``d`` dense values.

    A sparse message costs ``k * (value_bits + ceil(log2 d))`` bits; it is
    never counted as more than the dense ``d * value_bits``.
    """
    d = int(d)
    if k is None or k >= d:
        return d * value_bits
    return min(k * (value_bits + max(1, math.ceil(math.log2(d)))), d * value_bits)


_COMPRESSORS = ("top-k", "random-k", "none")


class _Compressor:
    """``compress(x, k, rng)`` for a named compressor or a user callable (picklable)."""

    def __init__(self, compressor):
        if callable(compressor):
            self.name, self.fn = "callable", compressor
        else:
            if compressor not in _COMPRESSORS:
                raise ValueError(f"compressor must be one of {_COMPRESSORS} or a callable, "
                                 f"got {compressor!r}")
            self.name, self.fn = compressor, None

    def __call__(self, x, k, rng):
        xp = namespace_of(x)
        if self.fn is not None:
            out = self.fn(x, rng)
            if is_numpy(xp):
                return np.asarray(out, dtype=np.float64)
            namespace_and_device(x, out, names=("x", "the compressor's output"))
            return astype(out, xp.float64, xp)
        if self.name == "top-k":
            return top_k(x, k)
        if self.name == "random-k":
            return random_k(x, k, rng)
        return x.copy() if is_numpy(xp) else xp.asarray(x, copy=True)


def _worker_rngs(rng, n):
    """One generator per worker, drawn from ``rng``: the same streams in every process."""
    seeds = rng.integers(0, 2**63, size=n)
    return [np.random.default_rng(int(s)) for s in seeds]


class EControl:
    """EControl error feedback over ``n_workers`` workers (simulated, or on Dask).

    Parameters
    ----------
    n_workers : int
    compressor : {'top-k', 'random-k', 'none'} or callable
        A callable is ``compressor(x, rng) -> compressed x`` (it must be
        contractive for the theory to apply); pass ``k`` so bits are counted.
    k : int, optional
        Entries kept per message (default: ``ceil(0.1 d)``).
    eta : float
        Feedback strength; ``0`` gives EF21, the theory takes ``eta`` proportional
        to the compressor's contraction ``delta = k/d``. Default ``None`` uses
        ``delta/2``: with ``eta >= delta`` we measured divergence on small
        least-squares problems at every step size tried.
    value_bits : int
        Bits per transmitted value in the message-size model (32: float32).
    rng : None, int or numpy.random.Generator
        Worker ``i`` draws (random-k, a random callable compressor) from its
        own generator, the ``i``-th of ``n_workers`` seeded from ``rng``, so a
        run on Dask draws exactly what the simulation draws.
    worker_grads : sequence of callables, optional
        The workers' gradient oracles ``grad_i(x)``; needed by
        :meth:`evaluate` and :meth:`step` and with ``client``.
    client : distributed.Client, optional
        Place each worker (its oracle, the data the oracle closes over, its
        generator and state) on a Dask worker as an actor: the oracle runs
        there, the compressor is applied there, and only packed messages
        cross the network (see :mod:`numopt.optim._dask`). Call
        :meth:`close` (or use ``with``) to release the actors.

    Attributes
    ----------
    h : ndarray, shape (n_workers, d)
        Gradient estimators (the server's copies).
    e : ndarray, shape (n_workers, d)
        Accumulated errors of the workers (fetched from them with a client).
    bits : int
        Total bits sent by all workers so far: the message-size model
        (:func:`message_bits`) in this process; with a client, the sizes of
        the packed messages actually sent.
    model_bits : int
        The model's count, in both cases.
    monitor_bits, downlink_bits : int
        With a client: bits of the dense gradients sent for the stopping test
        (:meth:`evaluate`) and of the iterates sent to the workers.
    rounds : int

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.optim.distributed import EControl
    >>> ec = EControl(2, compressor='top-k', k=1)
    >>> g = [np.array([1.0, 2.0]), np.array([3.0, 0.0])]
    >>> ec.start(g)                        # first round is uncompressed
    array([2., 1.])
    >>> ec.round([np.array([1.0, 3.0]), np.array([3.0, 0.0])])
    array([2. , 1.5])
    """

    def __init__(self, n_workers, compressor="top-k", k=None, eta=None, value_bits=32,
                 rng=None, *, worker_grads=None, client=None):
        from ._dask import DaskWorkers, EControlWorker, LocalWorkers
        self.n_workers = check_scalar(n_workers, "n_workers", lower=1, integer=True)
        self._compress = _Compressor(compressor)
        self.compressor = compressor
        self.k = None if k is None else check_scalar(k, "k", lower=1, integer=True)
        self.eta = check_scalar(eta, "eta", lower=0.0, allow_none=True)
        self.value_bits = check_scalar(value_bits, "value_bits", lower=1, integer=True)
        self.rng = check_rng(rng)
        if worker_grads is not None:
            if len(worker_grads) != self.n_workers:
                raise ValueError(f"expected {self.n_workers} worker_grads, got "
                                 f"{len(worker_grads)}")
            for i, g in enumerate(worker_grads):
                check_callable(g, f"worker_grads[{i}]")
        elif client is not None:
            raise ValueError("a client needs the workers' oracles: pass `worker_grads`")
        grads = worker_grads if worker_grads is not None else [None] * self.n_workers
        workers = [EControlWorker(g, self._compress, self.k, self.eta, r)
                   for g, r in zip(grads, _worker_rngs(self.rng, self.n_workers))]
        self._has_oracles = worker_grads is not None
        if client is not None:
            if not hasattr(client, "submit"):
                raise TypeError(f"`client` must be a distributed.Client, got "
                                f"{type(client).__name__}")
            self._workers = DaskWorkers(client, workers)
        else:
            self._workers = LocalWorkers(workers)
        self.h = None
        self.d = None
        self.bits = self.model_bits = self.monitor_bits = self.downlink_bits = 0
        self.rounds = 0
        self.n_evaluations = 0   # oracle calls per worker

    @property
    def e(self):
        return None if self.h is None else self._workers.errors()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Release the workers (the Dask actors); the state ``h`` is kept."""
        self._workers.close()

    def _check_grads(self, grads):
        if len(grads) != self.n_workers:
            raise ValueError(f"expected {self.n_workers} worker gradients, got {len(grads)}")
        if self._workers.remote:
            raise ValueError("with a client the gradients are computed on the workers: "
                             "use evaluate() and step()")
        for w, g in zip(self._workers.workers, grads):
            w.set_grad(g)

    def start(self, grads):
        """First round (restarts): each worker sends its gradient uncompressed; returns mean(h)."""
        self._check_grads(grads)
        for w in self._workers.workers:
            w.h = w.e = None
        self.h = None
        self.bits = self.model_bits = self.rounds = 0
        return self._apply_round(None)

    def round(self, grads):
        """One compressed round on the workers' new gradients; returns mean(h)."""
        self._check_grads(grads)
        return self._apply_round(None)

    def evaluate(self, x):
        """The workers' gradients at ``x`` (kept by each worker for :meth:`step`).

        With a client they are sent dense (for a stopping test) and counted in
        ``monitor_bits``.
        """
        if not self._has_oracles:
            raise ValueError("evaluate() needs the workers' oracles: pass `worker_grads`")
        grads, got, sent = self._workers.evaluate(x)
        self.n_evaluations += 1
        self.monitor_bits += 8 * got
        self.downlink_bits += 8 * sent
        return grads

    def step(self, x=None):
        """One round (the first is uncompressed) on the gradients at ``x``; returns mean(h).

        ``x=None`` uses the gradients of the last :meth:`evaluate`.
        """
        if x is not None and not self._has_oracles:
            raise ValueError("step(x) needs the workers' oracles: pass `worker_grads`")
        if x is not None:
            self.n_evaluations += 1
        return self._apply_round(x)

    def _apply_round(self, x):
        deltas, got, sent = self._workers.messages(x)
        d = deltas[0].shape[0]
        if any(dl.shape[0] != d for dl in deltas):
            raise ValueError("worker gradients must all have the same number of entries")
        xp = namespace_of(deltas[0])
        if self.h is None:
            self.d = d
            self.k_, self.eta_ = self._workers_k_eta(d)
            self.h = np.array(deltas) if is_numpy(xp) else xp.stack(deltas)
            k = None
        else:
            for i, dl in enumerate(deltas):
                if is_numpy(xp):
                    self.h[i] += dl
                else:
                    self.h[i, :] = self.h[i, :] + dl
            k = self.k_
        self.model_bits += self.n_workers * message_bits(d, k, self.value_bits)
        if self._workers.remote:
            self.bits += 8 * got
        else:
            self.bits = self.model_bits
        self.downlink_bits += 8 * sent
        self.rounds += 1
        return self.h.mean(axis=0) if is_numpy(xp) else xp.mean(self.h, axis=0)

    def _workers_k_eta(self, d):
        from ._dask import resolve_k_eta
        return resolve_k_eta(self._compress.name, self.k, self.eta, d)


def econtrol(worker_grads, x0, learning_rate=0.1, *, eta=None, compressor="top-k", k=None,
             maxiter=1000, gtol=1e-6, full_grad=None, rng=None, callback=None,
             value_bits=32, client=None):
    """Distributed gradient descent with EControl compression (simulated, or on Dask).

    Minimizes ``f(x) = mean_i f_i(x)``; worker ``i`` computes ``g_i =
    worker_grads[i](x)`` and sends a compressed message per round.

    Parameters
    ----------
    worker_grads : sequence of callables
        ``grad_i(x) -> ndarray``, the local gradient (or a stochastic one).
        With ``client``, each callable, with the data it closes over (its
        shard), is sent once to a Dask worker and runs there.
    x0 : array_like
        A PyTorch, CuPy or other Array API ``x0`` keeps the simulation on its
        device (the oracles get and return such arrays; compression, error
        feedback and the server's average run there). The Dask path
        (``client``) sends packed NumPy bytes and needs NumPy arrays.
    learning_rate : float
    eta, compressor, k, value_bits, rng
        See :class:`EControl`.
    maxiter : int
        Communication rounds.
    gtol : float
        Stop when ``||mean_i grad_i(x)|| <= gtol`` (the gradient of ``f``,
        computed from the exact local gradients, or by ``full_grad`` if given).
    full_grad : callable, optional
        ``full_grad(x)`` for the stopping test and the history. Without it,
        the local gradients are averaged; with a client they are then sent
        dense every round (counted in ``monitor_bits``, not in ``bits``).
    callback : callable, optional
        ``callback(intermediate_result)``; ``StopIteration`` stops (status 99).
    client : distributed.Client, optional
        Run each worker on a Dask worker (see :class:`EControl`). The iterates,
        ``nit`` and ``grad_norm`` equal the simulation's for the same ``rng``.

    Returns
    -------
    OptimizeResult
        ``x``, ``nit`` (rounds), ``bits`` (total over workers: the model of
        :func:`message_bits` when simulated; the packed messages' sizes with
        a client), ``model_bits``, ``bits_per_worker``, ``grad_norm`` and
        ``history`` (``grad_norm`` and ``bits`` per round); with a client also
        ``monitor_bits`` and ``downlink_bits``.

    Examples
    --------
    Two workers with quadratics ``f_i = ||x - c_i||^2 / 2``; the minimizer of
    the average is the mean of the ``c_i``:

    >>> import numpy as np
    >>> from numopt.optim.distributed import econtrol
    >>> c = [np.array([1.0, 0.0, 2.0]), np.array([3.0, 2.0, 0.0])]
    >>> grads = [lambda x, c=c_: x - c for c_ in c]
    >>> res = econtrol(grads, np.zeros(3), learning_rate=0.5, k=1, gtol=1e-10)
    >>> res.success, np.round(res.x, 8)
    (True, array([2., 1., 1.]))
    """
    if len(worker_grads) == 0:
        raise ValueError("worker_grads must hold at least one callable")
    for i, g in enumerate(worker_grads):
        check_callable(g, f"worker_grads[{i}]")
    check_callable(full_grad, "full_grad", allow_none=True)
    xp, _ = namespace_and_device(x0, names=("x0",))
    if client is not None and not is_numpy(xp):
        raise TypeError("econtrol with a Dask `client` sends NumPy bytes between processes: "
                        "pass a NumPy x0 (or run the simulation, client=None, on device "
                        "arrays)")
    x = check_array(x0, "x0", ndim=1, copy=True, dtype=np.float64 if is_numpy(xp)
                    else xp.float64, xp=xp)
    lr = check_scalar(learning_rate, "learning_rate", lower=0.0, lower_inclusive=False)
    maxiter = check_scalar(maxiter, "maxiter", lower=0, integer=True)
    gtol = check_scalar(gtol, "gtol", lower=0.0)
    cb = make_callback(callback)
    with EControl(len(worker_grads), compressor=compressor, k=k, eta=eta,
                  value_bits=value_bits, rng=rng, worker_grads=worker_grads,
                  client=client) as ec:
        hist = {"grad_norm": [], "bits": []}
        status, nit = MAXITER, 0
        for nit in range(maxiter + 1):
            if not is_numpy(xp):
                gfull = xp.mean(xp.stack(ec.evaluate(x)), axis=0) if full_grad is None \
                    else full_grad(x)
                gnorm = float(xp.linalg.vector_norm(gfull))
                x_ok = bool(xp.all(xp.isfinite(x)))
            else:
                if full_grad is None:
                    gfull = np.mean(ec.evaluate(x), axis=0)
                else:
                    gfull = np.asarray(full_grad(x))
                gnorm = float(np.linalg.norm(gfull))
                x_ok = np.all(np.isfinite(x))
            hist["grad_norm"].append(gnorm)
            hist["bits"].append(ec.bits)
            if not np.isfinite(gnorm) or not x_ok:
                status = NAN_ENCOUNTERED
                break
            if gnorm <= gtol:
                status = SUCCESS
                break
            if nit == maxiter:
                break
            if cb(x, grad_norm=gnorm, nit=nit, bits=ec.bits):
                status = CALLBACK_STOP
                break
            direction = ec.step(None if full_grad is None else x)
            x = x - lr * direction
    n = len(worker_grads)
    extra = {}
    if client is not None:
        extra = {"monitor_bits": ec.monitor_bits, "downlink_bits": ec.downlink_bits}
    return make_result(x, status, nit=nit, nfev=0, njev=ec.n_evaluations * n,
                       bits=ec.bits, model_bits=ec.model_bits, bits_per_worker=ec.bits // n,
                       grad_norm=hist["grad_norm"][-1],
                       history={k_: np.asarray(v) for k_, v in hist.items()}, **extra)
