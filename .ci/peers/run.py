"""Run peers' own test suites against numopt (POT's Sinkhorn tests, SciPy's minimize tests).

Usage (from anywhere; the numopt of this checkout is tested)::

    python .ci/peers/run.py              # both suites
    python .ci/peers/run.py pot          # POT's test/test_bregman.py, Sinkhorn selection
    python .ci/peers/run.py scipy        # SciPy's optimize/tests/test_optimize.py
    python .ci/peers/run.py pot -- -x -q # extra arguments go to pytest
    NUMOPT_PEERS_ROUTE=0 python .ci/peers/run.py pot   # the peer alone (harness check)

POT's tests come from POT's source distribution of the installed version
(``pip download``; never stored in this repository) into a temporary folder;
SciPy's ship in the installed SciPy wheel. The routed functions are listed in
``pot_plugin.py`` and ``scipy_plugin.py``.

When the download fails the run fails, except locally (``CI`` unset) without
network, where the POT suite is skipped with a message.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from sdist import FetchError, fetch_members, installed_version, network_available  # noqa: E402

#: POT's Sinkhorn tests (issue #17): the Sinkhorn selection plus the Greenkhorn tests
POT_SELECTION = ("(sinkhorn and not bary and not unbalanced and not screenkhorn "
                 "and not empirical) or greenkhorn")
#: deselected by id, with the reason
_REG0 = ("reg=0: POT warns and returns NaN; numopt raises ValueError('`reg` must be > 0') "
         "(documented in numopt.ot.sinkhorn)")
POT_DESELECT = {
    "test/test_bregman.py::test_nan_warning[sinkhorn]": _REG0,
    "test/test_bregman.py::test_nan_warning[sinkhorn_stabilized]": _REG0,
}


def _env():
    env = dict(os.environ)
    path = [HERE, ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(path)
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _pytest(args, cwd):
    base = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
            "-ra", "-q"]
    print("$", " ".join(base + args), f"(in {cwd})", flush=True)
    return subprocess.call(base + args, cwd=cwd, env=_env())


def run_pot(extra):
    ver = installed_version("POT")
    with tempfile.TemporaryDirectory(prefix="numopt-peers-pot-") as tmp:
        try:
            top = fetch_members("pot", ["test/"], tmp)
        except FetchError as exc:
            if not os.environ.get("CI") and not network_available():
                print(f"SKIPPED POT suite: no network to fetch the POT {ver} sdist "
                      f"(CI unset)\n{exc}")
                return 0
            print(f"ERROR: could not fetch POT {ver}'s tests:\n{exc}", file=sys.stderr)
            return 2
        print(f"POT {ver}: test/test_bregman.py from the sdist; deselected:")
        args = ["test/test_bregman.py", "-p", "pot_plugin", "-k", POT_SELECTION,
                "--rootdir", top]
        for node, why in POT_DESELECT.items():
            print(f"  {node}: {why}")
            args += ["--deselect", node]
        return _pytest(args + list(extra), cwd=top)


def run_scipy(extra):
    import scipy
    path = os.path.join(os.path.dirname(scipy.__file__), "optimize", "tests",
                        "test_optimize.py")
    if not os.path.exists(path):
        print(f"ERROR: SciPy {scipy.__version__} was installed without its tests "
              f"({path} missing)", file=sys.stderr)
        return 2
    print(f"SciPy {scipy.__version__}: {path}")
    with tempfile.TemporaryDirectory(prefix="numopt-peers-scipy-") as tmp:
        return _pytest([path, "-p", "scipy_plugin", "--rootdir",
                        os.path.dirname(scipy.__file__)] + list(extra), cwd=tmp)


SUITES = {"pot": run_pot, "scipy": run_scipy}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("suites", nargs="*",
                        help="pot, scipy (default: both)")
    names = parser.parse_args(argv).suites or sorted(SUITES)
    bad = [s for s in names if s not in SUITES]
    if bad:
        parser.error(f"unknown suite(s) {bad}; choose from {sorted(SUITES)}")
    rcs = {}
    for name in names:
        print(f"== peer suite: {name}", flush=True)
        rcs[name] = SUITES[name](extra)
    print("== peer suites:", ", ".join(f"{k}: {'ok' if v == 0 else f'FAILED (rc {v})'}"
                                       for k, v in rcs.items()))
    return 0 if all(v == 0 for v in rcs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
