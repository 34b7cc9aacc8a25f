"""The shared namespace mechanism (numopt/_array_api.py) and the test backends."""
import numpy as np
import pytest

from numopt._array_api import (cho_solve, float_dtype, from_host, logsumexp,
                               namespace_and_device, require_host, to_host)
from numopt._validation import check_array


def test_numpy_and_neutral_arguments():
    xp, dev = namespace_and_device(np.ones(2), None, 1.0, [1.0, 2.0])
    assert xp is np and dev == "cpu"
    assert namespace_and_device(None, 3.0)[0] is np


def test_backend_namespace_and_device(xpb):
    x = xpb.asarray(np.arange(3.0))
    xp, dev = namespace_and_device(x, None, [1.0], names=("x", "y", "z"))
    assert xp is xpb.xp and dev == xpb.device


def test_mixing_libraries_is_a_type_error(xpb):
    with pytest.raises(TypeError, match=r"`M` is a numpy array, `a` a .* array"):
        namespace_and_device(np.ones(2), xpb.asarray(np.ones(2)), names=("M", "a"))


def test_mixing_devices_is_a_type_error():
    strict = pytest.importorskip("array_api_strict")
    x = strict.asarray([1.0], device=strict.Device("device1"))
    y = strict.asarray([1.0], device=strict.Device("device2"))
    with pytest.raises(TypeError, match="different devices"):
        namespace_and_device(x, y, names=("a", "b"))


def test_float_dtype_rule(xpb):
    f32 = xpb.asarray(np.ones(2, np.float32))
    f64 = xpb.asarray(np.ones(2))
    assert float_dtype(f32, f32) == xpb.xp.float32
    assert float_dtype(f32, f64) == xpb.xp.float64
    assert float_dtype(np.ones(2, np.float32)) == np.float32


def test_check_array_generic(xpb):
    x = check_array(xpb.asarray(np.arange(4)), "x", ndim=1)
    xpb.check(x)
    assert x.dtype == xpb.xp.float64
    with pytest.raises(ValueError, match="`x` must contain only finite"):
        check_array(xpb.asarray(np.array([1.0, np.nan])), "x", xp=xpb.xp)
    with pytest.raises(ValueError, match="`x` must be 2-dimensional"):
        check_array(xpb.asarray(np.ones(3)), "x", ndim=2)
    with pytest.raises(ValueError, match="non-negative"):
        check_array(xpb.asarray(np.array([1.0, -1.0])), "x", nonneg=True)
    with pytest.raises(TypeError, match="`x`: expected a"):
        check_array(np.ones(2), "x", xp=xpb.xp)


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_host_round_trip_and_linalg(xpb):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 5))
    S = A @ A.T + 5 * np.eye(5)
    b = rng.standard_normal(5)
    L = from_host(np.linalg.cholesky(S), xpb.xp, xpb.device)
    x = cho_solve(L, from_host(b, xpb.xp, xpb.device), xpb.xp)
    xpb.check(x)
    np.testing.assert_allclose(to_host(x), np.linalg.solve(S, b), rtol=1e-12)
    Z = rng.standard_normal((3, 4))
    Z[0] = -np.inf
    out = to_host(logsumexp(xpb.asarray(Z), 1, xpb.xp))
    ref = np.log(np.exp(Z).sum(1))
    np.testing.assert_allclose(out[1:], ref[1:], rtol=1e-12)
    assert out[0] == -np.inf


def test_require_host_names_the_alternative(xpb):
    require_host(np, "cyclic descent")
    with pytest.raises(TypeError, match="use greedy"):
        require_host(xpb.xp, "cyclic descent", "greedy")
