"""The asv suite's quick/full switch and the offline rewrite of asv's HTML."""
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASV = os.path.join(ROOT, "asv_benchmarks")


def _profile(env_value):
    """QUICK as seen by a fresh interpreter importing the benchmark package."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    if env_value is None:
        env.pop("NUMOPT_ASV_QUICK", None)
    else:
        env["NUMOPT_ASV_QUICK"] = env_value
    code = ("import sys; sys.path.insert(0, %r); import benchmarks, benchmarks.ot as o; "
            "print(benchmarks.QUICK, o.OTSolvers.params[0])" % ASV)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, timeout=600).stdout.split()
    return out[0], " ".join(out[1:])


@pytest.mark.slow
def test_quick_switch_reduces_the_grids():
    assert _profile("1") == ("True", "[500]")
    assert _profile("0") == ("False", "[500, 1000]")
    # no variable and no `asv run --quick` ancestor: the full profile
    assert _profile(None) == ("False", "[500, 1000]")


def _publish_module():
    spec = importlib.util.spec_from_file_location(
        "publish_offline", os.path.join(ASV, "publish_offline.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_localize_rewrites_every_cdn_tag_of_asv_html():
    asv_www = pytest.importorskip("asv").__file__.replace("__init__.py", "www")
    with open(os.path.join(asv_www, "index.html"), encoding="utf-8") as fh:
        html = fh.read()
    mod = _publish_module()
    out, missing = mod.localize(html)
    assert missing == []
    assert "//cdn" not in out and "code.jquery.com" not in out and "integrity=" not in out
    for local in mod.LOCAL.values():
        # every rewritten URL points at a file that fetch_vendor writes (from the npm registry)
        assert local.startswith("vendor/") and local[len("vendor/"):] in mod.NPM_FILES, local
        assert f'"{local}"' in out


def test_localize_reports_an_unknown_cdn_file():
    mod = _publish_module()
    html = '<script src="https://cdn.example.org/x.js" integrity="sha1-a"></script><a href="https://x">'
    out, missing = mod.localize(html)
    assert out == html and missing == ["https://cdn.example.org/x.js"]
