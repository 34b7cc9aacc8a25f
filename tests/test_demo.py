"""``python -m numopt.demo``: options, coverage of the registered methods, line width."""
import subprocess
import sys

import pytest

from numopt import MINIMIZE_METHODS, demo


def _lines(text):
    return [line for line in text.splitlines() if line]


def test_help_lists_the_options_and_fits_the_width(capsys):
    with pytest.raises(SystemExit) as exc:
        demo.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--only" in out and "--list" in out
    for area in demo.AREAS:
        assert area in out
    assert max(len(line) for line in _lines(out)) <= demo.WIDTH


def test_unknown_subpackage_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        demo.main(["--only", "nope"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown subpackage"):
        demo.cases(["nope"])


def test_every_registered_minimize_method_has_a_case():
    """A newly declared method fails here until the demo runs it."""
    names = {c.method for c in demo.cases(["optim", "coordinate"])}
    names |= set(demo._IN_SUBPACKAGE_CASES)
    assert set(MINIMIZE_METHODS) <= names
    for c in demo.cases(["newton", "constrained"]):
        assert c.method.split()[0] in demo._IN_SUBPACKAGE_CASES


def test_list_shows_every_area(capsys):
    assert demo.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert {line.split()[0] for line in _lines(out)} == set(demo.AREAS)
    assert max(len(line) for line in _lines(out)) <= demo.WIDTH


def test_a_failed_check_is_reported(monkeypatch, capsys):
    def boom():
        raise RuntimeError("x" * 300)
    bad = [demo.Case("ot", "wrong", "p", lambda: 1.0, lambda out: (False, "off by one")),
           demo.Case("ot", "raises", "p", boom, lambda out: (True, ""))]
    monkeypatch.setattr(demo, "cases", lambda only=None: bad)
    assert demo.main([]) == 1
    out = capsys.readouterr().out
    assert "off by one" in out and "RuntimeError" in out and "failed: ot wrong, ot raises" in out
    assert max(len(line) for line in _lines(out)) <= demo.WIDTH


@pytest.mark.slow
@pytest.mark.parametrize("area", demo.AREAS)
def test_only_each_subpackage_passes(area, capsys):
    rc = demo.main(["--only", area])
    out = capsys.readouterr().out
    lines = _lines(out)
    assert rc == 0, out
    assert f"[{area}]" in lines
    assert max(len(line) for line in lines) <= demo.WIDTH
    rows = [line for line in lines if line.rstrip().endswith(tuple("0123456789"))
            and " ok " in line]
    n = len(demo.cases([area]))
    assert len(rows) == n and f"{n} of {n} checks passed" in out
    # compile and solve columns are numbers
    for line in rows:
        compile_s, solve_s = line.split()[-2:]
        assert float(compile_s) >= 0 and float(solve_s) >= 0


def test_module_entry_point_help():
    out = subprocess.run([sys.executable, "-m", "numopt.demo", "--help"], capture_output=True,
                         text=True, check=True, timeout=300).stdout
    assert out.startswith("usage: python -m numopt.demo")
