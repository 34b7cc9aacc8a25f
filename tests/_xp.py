"""Array backends for the generic-path tests (see ``tests/conftest.py``).

A test of the generic path builds its problem in NumPy, converts it with
``xpb.asarray``, calls the solver, checks with ``xpb.check`` that every result
array is of the backend's library and on its device, and compares
``xpb.to_numpy(result)`` with the NumPy path's result.
"""
import functools

import numpy as np
import pytest

import array_api_compat

#: backend ids; the ``gpu`` ones are marked and skipped without a CUDA device
BACKENDS = ["strict", "torch",
            pytest.param("cupy", marks=pytest.mark.gpu),
            pytest.param("torch-cuda", marks=pytest.mark.gpu)]


@functools.lru_cache(maxsize=None)
def gpu_available():
    """True when CuPy or PyTorch sees a CUDA device."""
    try:
        import torch
        if torch.cuda.is_available():
            return True
    except ImportError:
        pass
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:   # noqa: BLE001 -- CuPy raises its own error types without a driver
        return False


class Backend:
    """One array library on one device, as seen by a test."""

    def __init__(self, name, xp, device, raw):
        self.name, self.xp, self.device, self._raw = name, xp, device, raw

    def __repr__(self):
        return f"Backend({self.name!r})"

    def asarray(self, x, dtype=None):
        """NumPy data -> this backend (host-to-device copy made by the test)."""
        x = np.asarray(x)
        if dtype is not None:
            x = x.astype(dtype)
        if self.name.startswith("torch"):
            import torch
            return torch.from_numpy(np.ascontiguousarray(x)).to(self.device)
        return self.xp.asarray(x, device=self.device)

    def to_numpy(self, x):
        """This backend -> NumPy (device-to-host copy made by the test)."""
        if self.name.startswith("torch"):
            return x.detach().cpu().numpy()
        if self.name == "cupy":
            return x.get()
        import array_api_strict as strict
        return np.asarray(strict.asarray(x, device=strict.Device("CPU_DEVICE"), copy=True))

    def check(self, *arrays):
        """Assert every array is of this backend's library and on its device."""
        for x in arrays:
            assert array_api_compat.is_array_api_obj(x) and not isinstance(x, np.ndarray), \
                f"expected a {self.name} array, got {type(x).__name__}"
            xp = array_api_compat.array_namespace(x)
            assert xp is self.xp, f"expected namespace {self.xp.__name__}, got {xp.__name__}"
            assert array_api_compat.device(x) == self.device, \
                f"array on {array_api_compat.device(x)!r}, expected {self.device!r}"
        return arrays[0] if len(arrays) == 1 else arrays

    @property
    def float32(self):
        return self.xp.float32

    @property
    def float64(self):
        return self.xp.float64


def make_backend(name):
    """Build the backend ``name`` (skips the test when its library is missing)."""
    if name == "strict":
        strict = pytest.importorskip("array_api_strict")
        return Backend(name, strict, strict.Device("device1"), strict)
    if name in ("torch", "torch-cuda"):
        torch = pytest.importorskip("torch")
        dev = torch.device("cpu" if name == "torch" else "cuda")
        if name == "torch-cuda" and not torch.cuda.is_available():
            pytest.skip("PyTorch sees no CUDA device")
        return Backend(name, array_api_compat.array_namespace(torch.zeros(1)), dev, torch)
    if name == "cupy":
        cupy = pytest.importorskip("cupy")
        if not gpu_available():
            pytest.skip("CuPy sees no CUDA device")
        return Backend(name, array_api_compat.array_namespace(cupy.zeros(1)),
                       cupy.cuda.Device(), cupy)
    raise ValueError(f"unknown backend {name!r}")

