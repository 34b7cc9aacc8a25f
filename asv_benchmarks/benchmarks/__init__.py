"""numopt's asv benchmark suite.

With ``environment_type: existing`` asv benchmarks the installed numopt; when
numopt is not installed (a bare checkout), the checkout itself is used.

Two profiles
------------
* **quick** -- reduced parameter grids (the smallest sizes, one or two
  regularizations, ...) so that ``asv run --python=same --quick`` over the
  whole suite takes minutes: a check before a commit.
* **full** -- every parameter set, for release measurements
  (``asv run --python=same``; hours on a 2-core machine).

The quick profile is chosen by ``NUMOPT_ASV_QUICK=1`` (``NUMOPT_ASV_QUICK=0``
forces the full one); without the variable it follows asv's own ``--quick``
flag, read from the command line of the ``asv`` process that started the
benchmark (Linux ``/proc``; elsewhere set the variable).
"""
import os
import sys

# asv forks every benchmark from one server process (launch_method 'forkserver') that has
# already used GNU OpenMP (through the peers it imports); Numba's default OpenMP threading
# layer then aborts the child ("fork() called from a process already using GNU OpenMP").
# The workqueue layer is fork-safe; the script entries keep Numba's default layer.
os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")

try:
    import numopt  # noqa: F401
except ImportError:  # pragma: no cover - bare checkout
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))


def _asv_quick_flag(max_depth=8):
    """True when an ancestor ``asv`` process was started with ``--quick`` (or ``-q``)."""
    pid = os.getpid()
    for _ in range(max_depth):
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            pid = int(stat.rsplit(")", 1)[1].split()[1])   # field 4: parent pid
            if pid <= 1:
                return False
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                argv = [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
        except (OSError, ValueError, IndexError):
            return False
        names = [os.path.basename(a) for a in argv[:2]]
        if "asv" in names or any(a.endswith("asv/__main__.py") for a in argv[:2]):
            return "run" in argv and ("--quick" in argv or "-q" in argv)
    return False


def _quick():
    flag = os.environ.get("NUMOPT_ASV_QUICK")
    if flag is not None and flag.strip() != "":
        return flag.strip().lower() not in ("0", "false", "no")
    return _asv_quick_flag()


#: True under the quick profile (see the module docstring).
QUICK = _quick()


def pick(full, quick):
    """``quick`` under the quick profile, ``full`` otherwise (parameter grids, sizes)."""
    return quick if QUICK else full
