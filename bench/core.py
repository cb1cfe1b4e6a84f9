"""What every benchmark shares: the result type, timing helpers, the table, RESULTS.md.

A benchmark is one module in `bench/` listed in `bench.BENCHMARKS`. It defines:

    NAME = "first_load"            # what `python -m bench NAME` runs
    TITLE = "First load of /"      # its heading in the table and in RESULTS.md

    def run(options: Options) -> Result: ...

Every `Figure` of its `Result` is a measurement *and* the baseline it is compared with,
both measured in the same run, so the ratio stays meaningful on any machine. Timed
assertions belong nowhere (not in tests, not here): a figure may name a target, and the
table says whether this run met it, but nothing fails.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS_PATH = Path(__file__).resolve().parent / "RESULTS.md"


@dataclass(frozen=True)
class Options:
    runs: int = 15
    warmup: int = 2
    # Also run the benchmark's profiled pass and report where the time goes.
    profile: bool = True


@dataclass(frozen=True)
class Figure:
    """One measured figure against its same-run baseline (`ratio` = value / baseline)."""

    label: str
    value: float
    baseline_label: str
    baseline: float
    unit: str
    # The ratio this figure should stay under, if the issue sets one (e.g. 1.15).
    target_ratio: float | None = None

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")

    @property
    def verdict(self) -> str:
        if self.target_ratio is None:
            return ""
        mark = "met" if self.ratio <= self.target_ratio else "MISSED"
        return f"< {self.target_ratio:.2f} {mark}"


@dataclass
class Result:
    name: str
    title: str
    # What the baseline is, in one or two sentences.
    baseline: str
    figures: list[Figure] = field(default_factory=list)
    # Where the time or bytes go (from this run's profile), one line each.
    breakdown: list[str] = field(default_factory=list)
    # How it was measured: runs, warm-up, anything a reader needs to trust the numbers.
    method: str = ""
    # What the profile shows and what it means, written by the benchmark's author; keep it
    # true of the code (not of one run's numbers).
    reading: list[str] = field(default_factory=list)


def median_ms(samples: list[float]) -> float:
    """Median of samples taken in seconds, in milliseconds."""
    return statistics.median(samples) * 1000


def timed(function: Callable[[], object]) -> float:
    """Seconds one call takes (monotonic, high resolution)."""
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


# --- the table ---------------------------------------------------------------------------


def _number(value: float, unit: str) -> str:
    if unit == "KB":
        return f"{value:,.1f} KB"
    if unit == "ms":
        return f"{value:,.1f} ms"
    return f"{value:,.3g} {unit}".strip()


def table(result: Result) -> str:
    """The figures as a Markdown table (it reads as well in a terminal)."""
    has_target = any(f.target_ratio is not None for f in result.figures)
    header = ["figure", "measured", "baseline", "baseline value", "ratio"]
    if has_target:
        header.append("target")
    rows = [header, ["---"] * len(header)]
    for f in result.figures:
        row = [
            f.label,
            _number(f.value, f.unit),
            f.baseline_label,
            _number(f.baseline, f.unit),
            f"{f.ratio:.2f}×",
        ]
        if has_target:
            row.append(f.verdict)
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(widths[i]) if cell != "---" else "-" * widths[i]
            for i, cell in enumerate(row)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def section(result: Result) -> str:
    """A benchmark's block in RESULTS.md (and on the terminal)."""
    parts = [f"## {result.title} (`python -m bench {result.name}`)", ""]
    parts += [f"Baseline: {result.baseline}", ""]
    if result.method:
        parts += [result.method, ""]
    parts += [table(result), ""]
    if result.breakdown:
        parts += ["What dominates (profiled in this run):", ""]
        parts += [f"- {line}" for line in result.breakdown]
        parts.append("")
    if result.reading:
        parts += ["Reading it:", ""]
        parts += [f"- {line}" for line in result.reading]
        parts.append("")
    return "\n".join(parts)


# --- the machine -------------------------------------------------------------------------


def machine() -> str:
    """CPU model and cores, RAM, Python, OS: what the absolute numbers depend on."""
    cpu, cores = platform.processor() or "unknown CPU", os.cpu_count() or 0
    try:
        info = Path("/proc/cpuinfo").read_text()
        found = re.search(r"^model name\s*:\s*(.+)$", info, re.MULTILINE)
        cpu = found.group(1).strip() if found else cpu
        cores = len(re.findall(r"^processor\s*:", info, re.MULTILINE)) or cores
    except OSError:
        pass
    ram = "unknown"
    try:
        meminfo = Path("/proc/meminfo").read_text()
        found = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.MULTILINE)
        if found:
            ram = f"{int(found.group(1)) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    os_name = platform.platform()
    try:
        release = Path("/etc/os-release").read_text()
        found = re.search(r'^PRETTY_NAME="?([^"\n]+)"?$', release, re.MULTILINE)
        if found:
            os_name = f"{found.group(1)} ({platform.system()} {platform.release()})"
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return (
        f"{cpu}, {cores} logical cores ({usable} usable by this process), {ram} RAM; "
        f"Python {platform.python_version()} ({sys.implementation.name}); {os_name}"
    )


# --- RESULTS.md ---------------------------------------------------------------------------

_INTRO = """# Benchmark results

Written by `make bench` (`python -m bench`); running one benchmark rewrites only its own
section. Every ratio compares two figures measured in the same run on the same machine, so
the ratios travel between machines better than the absolute numbers do. Absolute numbers
depend on the machine below and on what else it was doing (it is shared).
"""


def _marker(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def write_results(results: list[Result], order: list[str], path: Path = RESULTS_PATH) -> None:
    """Put each result's section in RESULTS.md, keeping the other benchmarks' sections."""
    old = path.read_text() if path.exists() else ""
    sections: dict[str, str] = {}
    for name in order:
        begin, end = _marker(name)
        found = re.search(re.escape(begin) + r"\n(.*?)" + re.escape(end), old, re.DOTALL)
        if found:
            sections[name] = found.group(1)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for result in results:
        sections[result.name] = f"Measured {stamp} on: {machine()}\n\n{section(result)}"
    blocks = [_INTRO]
    for name in order:
        if name in sections:
            begin, end = _marker(name)
            blocks.append(f"{begin}\n{sections[name]}{end}\n")
    path.write_text("\n".join(blocks))
