"""Workers of :mod:`numopt.optim.distributed`: in this process, or as Dask actors.

An :class:`EControlWorker` holds one worker's gradient oracle (with the data
it closes over), its random generator and its EControl state ``(h_i, e_i)``;
it applies the compressor itself. :class:`LocalWorkers` runs them in this
process (the simulation); :class:`DaskWorkers` places each on a Dask worker
as an actor, so the oracle and its data shard stay there and only packed
messages cross the network: ``x`` going out, the compressed ``delta_i``
coming back (and, for the stopping test, the dense local gradient, counted
apart). Message sizes are the lengths of the byte strings actually sent.

Wire format of a message (:func:`pack` / :func:`unpack`): a 9-byte header
(kind ``b'D'`` dense or ``b'S'`` sparse, then ``d`` as uint32 and the
number of entries as uint32), then for a sparse message the indices (the
smallest unsigned integer type holding ``d - 1``) and the float64 values.
Values travel as float64 so that the server's state is bit-for-bit the
simulation's.
"""
import math
import struct

import numpy as np

from .._array_api import is_numpy
from ._xp import astype, copy, namespace_of

__all__ = ["EControlWorker", "LocalWorkers", "DaskWorkers", "pack", "unpack",
           "resolve_k_eta"]

_HEADER = struct.Struct("<cII")


def _index_dtype(d):
    for dt in (np.uint8, np.uint16, np.uint32):
        if d - 1 <= np.iinfo(dt).max:
            return np.dtype(dt)
    raise ValueError(f"messages of more than 2**32 entries are not supported (d = {d})")


def pack(delta):
    """Bytes of ``delta`` (1-D float64): sparse (indices, values) when that is smaller.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.optim._dask import pack, unpack
    >>> msg = pack(np.array([0.0, 2.5, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0]))
    >>> len(msg), unpack(msg)
    (27, array([ 0. ,  2.5,  0. ,  0. , -1. ,  0. ,  0. ,  0. ]))
    """
    delta = np.ascontiguousarray(delta, dtype=np.float64)
    d = delta.size
    nz = np.flatnonzero(delta)
    idt = _index_dtype(max(d, 1))
    if nz.size * (8 + idt.itemsize) < d * 8:
        return (_HEADER.pack(b"S", d, nz.size) + nz.astype(idt).tobytes()
                + delta[nz].tobytes())
    return _HEADER.pack(b"D", d, d) + delta.tobytes()


def unpack(buf):
    """Inverse of :func:`pack`: the dense float64 vector."""
    kind, d, nnz = _HEADER.unpack_from(buf, 0)
    off = _HEADER.size
    if kind == b"D":
        return np.frombuffer(buf, dtype=np.float64, count=d, offset=off).copy()
    idt = _index_dtype(max(d, 1))
    idx = np.frombuffer(buf, dtype=idt, count=nnz, offset=off)
    vals = np.frombuffer(buf, dtype=np.float64, count=nnz, offset=off + nnz * idt.itemsize)
    out = np.zeros(d)
    out[idx.astype(np.intp)] = vals
    return out


def resolve_k_eta(compressor, k, eta, d):
    """Entries kept per message and the feedback strength for dimension ``d``."""
    k_ = d if compressor == "none" else min(k or math.ceil(0.1 * d), d)
    eta_ = 0.5 * k_ / d if eta is None else eta
    return k_, eta_


class EControlWorker:
    """One EControl worker: oracle, generator and state ``(h, e)``; compresses locally.

    ``compress(x, k, rng)`` applies the compressor. ``grad`` may be None when
    the gradients are handed in (:meth:`set_grad`).
    """

    def __init__(self, grad, compress, k, eta, rng):
        self.grad = grad
        self.compress = compress
        self.k, self.eta, self.rng = k, eta, rng
        self.g = self.h = self.e = None
        self.k_ = self.eta_ = None

    def set_grad(self, g):
        xp = namespace_of(g)
        g = np.asarray(g, dtype=np.float64).ravel() if is_numpy(xp) else \
            xp.reshape(astype(g, xp.float64, xp), (-1,))
        if self.h is not None and g.shape[0] != self.h.shape[0]:
            raise ValueError(f"worker gradients must have {self.h.shape[0]} entries, "
                             f"got {g.shape[0]}")
        self.g = g
        return g

    def evaluate(self, x):
        """``g_i = grad_i(x)``, kept for the next message; returned."""
        return self.set_grad(self.grad(x))

    def message(self):
        """The next message ``delta_i`` (the first round: the gradient itself)."""
        g = self.g
        xp = namespace_of(g)
        if not bool(xp.all(xp.isfinite(g))):
            raise ValueError("worker gradients contain NaN or inf")
        if self.h is None:
            self.k_, self.eta_ = self.k_eta(g.shape[0])
            self.h = copy(g, xp)
            self.e = xp.zeros_like(g)
            return copy(g, xp)
        diff = g - self.h
        delta = self.compress(self.eta_ * self.e + diff, self.k_, self.rng)
        delta = np.asarray(delta, dtype=np.float64) if is_numpy(xp) else delta
        self.e += diff - delta
        self.h += delta
        return delta

    def k_eta(self, d):
        return resolve_k_eta(self.compress.name, self.k, self.eta, d)

    # --- the same, with packed bytes in and out (what a Dask actor is called with)
    def evaluate_packed(self, xbuf):
        return pack(self.evaluate(unpack(xbuf)))

    def message_packed(self, xbuf=None):
        if xbuf is not None:
            self.evaluate(unpack(xbuf))
        return pack(self.message())

    def state(self):
        return self.h, self.e


class LocalWorkers:
    """The workers in this process (the simulation). Messages are not packed."""

    remote = False

    def __init__(self, workers):
        self.workers = workers

    def evaluate(self, x):
        return [w.evaluate(x) for w in self.workers], 0, 0

    def messages(self, x=None):
        if x is not None:
            for w in self.workers:
                w.evaluate(x)
        return [w.message() for w in self.workers], 0, 0

    def errors(self):
        xp = namespace_of(self.workers[0].e)
        return np.array([w.e for w in self.workers]) if is_numpy(xp) else \
            xp.stack([w.e for w in self.workers])

    def close(self):
        """Nothing to release: the workers live in this process."""


class DaskWorkers:
    """One :class:`EControlWorker` per Dask actor, spread round-robin over the workers.

    Each call sends ``x`` packed once (the same bytes to every actor) and
    returns ``(values, reply_bytes, sent_bytes)``: the unpacked replies, the
    bytes the workers sent and the bytes sent to them (as
    :class:`LocalWorkers`, which reports zeros).
    """

    remote = True

    def __init__(self, client, workers):
        addrs = sorted(client.scheduler_info()["workers"])
        if not addrs:
            raise ValueError("the Dask client has no workers")
        futs = [client.submit(EControlWorker, w.grad, w.compress, w.k, w.eta, w.rng,
                              actor=True, workers=[addrs[i % len(addrs)]],
                              allow_other_workers=False, pure=False)
                for i, w in enumerate(workers)]
        self.client = client
        self._futures = futs
        self.actors = [f.result() for f in futs]

    def _call(self, name, *args):
        calls = [getattr(a, name)(*args) for a in self.actors]
        return [c.result() for c in calls]

    def evaluate(self, x):
        xbuf = pack(x)
        replies = self._call("evaluate_packed", xbuf)
        return [unpack(r) for r in replies], sum(map(len, replies)), len(xbuf) * len(replies)

    def messages(self, x=None):
        xbuf = None if x is None else pack(x)
        replies = self._call("message_packed", xbuf)
        sent = 0 if xbuf is None else len(xbuf) * len(replies)
        return [unpack(r) for r in replies], sum(map(len, replies)), sent

    def errors(self):
        return np.array([e for _, e in self._call("state")])

    def close(self):
        self.client.cancel(self._futures)
        self.actors = []
