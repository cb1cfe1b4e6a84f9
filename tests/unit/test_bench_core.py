"""The benchmark harness's table and RESULTS.md writer (no timings are asserted)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bench import BENCHMARKS
from bench.__main__ import main
from bench.core import Figure, Result, table, write_results


def _result(name: str, value: float) -> Result:
    return Result(
        name=name,
        title=f"Title of {name}",
        baseline="the same work without the app",
        figures=[Figure("time", value, "baseline", 100.0, "ms", target_ratio=1.15)],
        breakdown=["drawing dominates"],
    )


def test_a_figure_is_a_ratio_against_its_baseline() -> None:
    printed = table(_result("one", 110.0))
    assert "| time" in printed
    assert "110.0 ms" in printed and "100.0 ms" in printed
    assert "1.10×" in printed and "met" in printed
    assert "MISSED" in table(_result("one", 120.0))


def test_results_keep_the_sections_of_benchmarks_not_run(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    write_results([_result("a", 110.0), _result("b", 120.0)], ["a", "b"], path)
    write_results([_result("b", 130.0)], ["a", "b"], path)
    text = path.read_text()
    assert "110.0 ms" in text and "130.0 ms" in text and "120.0 ms" not in text
    assert text.index("Title of a") < text.index("Title of b")
    assert "logical cores" in text and "Python" in text


def test_every_listed_benchmark_has_a_module_with_run() -> None:
    for name in BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        assert name == module.NAME
        assert callable(module.run)


def test_an_unknown_name_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["no_such_benchmark", "--no-write"])
    assert exit_.value.code == 2
    assert "unknown benchmark" in capsys.readouterr().err
