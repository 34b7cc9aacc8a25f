"""Shared fixtures: the array backends of the generic (Array API) path.

``xpb`` runs a test once per non-NumPy backend: ``array_api_strict`` arrays on
its simulated device ``'device1'`` (which refuses conversion to NumPy, so any
silent host transfer fails), PyTorch CPU tensors, and, marked ``gpu``, CuPy and
PyTorch CUDA arrays when a GPU is present (skipped otherwise).
"""
import pytest

from tests._xp import BACKENDS, make_backend


def pytest_collection_modifyitems(config, items):
    """Skip ``gpu`` tests on a machine without a usable CUDA device."""
    from tests._xp import gpu_available
    if gpu_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device (CuPy or PyTorch CUDA) on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=BACKENDS)
def xpb(request):
    """A :class:`tests._xp.Backend` (namespace, device, converters, checks)."""
    return make_backend(request.param)


@pytest.fixture(autouse=True, scope="session")
def _torch_one_thread():
    """PyTorch (a test-only reference and array backend) with one intra-op thread for the
    whole run: its thread pool spins on a loaded 2-core machine (tiny problems ran 100x
    slower, and its CPU sparse products 5000x) and competes with Numba's threads."""
    try:
        import torch
    except ImportError:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
