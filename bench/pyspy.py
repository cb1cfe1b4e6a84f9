"""Sample running server processes with py-spy and say where their CPU went.

py-spy samples other processes from outside (no code in the app), so it sees the web
workers and job workers exactly as they run in a benchmark. Only threads that are running
Python or native code are sampled (py-spy skips idle threads by default), so a sample is a
slice of CPU, not of waiting: a job waiting on the provider costs nothing here.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

RATE_HZ = 250
# Innermost frames that are a thread blocked, not running: py-spy's idle check misses
# them in --nonblocking mode (the mode that does not pause the app at every sample).
WAITING = (
    "wait (threading.py)",
    "_worker (concurrent/futures/thread.py)",
    "select (selectors.py)",
    "wait (psycopg/connection.py)",
    "sleep",
)


def py_spy() -> str | None:
    """The py-spy executable next to this Python, or on PATH (it is not a requirement)."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


@dataclass
class Samples:
    """Collapsed stacks (outermost frame first) and how often each was seen."""

    stacks: Counter[tuple[str, ...]] = field(default_factory=Counter)
    # Samples of threads blocked in a wait (left out of `stacks`).
    waiting: int = 0

    @property
    def total(self) -> int:
        return sum(self.stacks.values())

    def by_category(self, categories: dict[str, tuple[str, ...]]) -> list[tuple[str, float]]:
        """Each sample goes to the category of its innermost frame that names one
        (SQL run inside a route counts as the database); "other" for the rest."""
        shares: Counter[str] = Counter()
        for stack, n in self.stacks.items():
            shares[_category(stack, categories)] += n
        return [(name, n / self.total) for name, n in shares.most_common()]

    def top_app(self, count: int) -> list[tuple[str, float]]:
        """The app's own functions the samples were under (innermost `studio_app` frame)."""
        owners: Counter[str] = Counter()
        for stack, n in self.stacks.items():
            own = [_short(f) for f in stack if "studio_app/" in f]
            owners[own[-1] if own else "outside the app's code"] += n
        return [(name, n / self.total) for name, n in owners.most_common(count)]

    def top_self(self, count: int) -> list[tuple[str, float]]:
        """The functions where the samples were taken (innermost frame), biggest first."""
        innermost: Counter[str] = Counter()
        for stack, n in self.stacks.items():
            innermost[_short(stack[-1])] += n
        return [(name, n / self.total) for name, n in innermost.most_common(count)]


def _category(stack: tuple[str, ...], categories: dict[str, tuple[str, ...]]) -> str:
    for frame in reversed(stack):
        for name, markers in categories.items():
            if any(marker in frame for marker in markers):
                return name
    return "other"


def _short(frame: str) -> str:
    """`encode (/venv/lib/python3.12/site-packages/PIL/ImageFile.py:123)` →
    `encode (PIL/ImageFile.py)`; the app's own files keep their `studio_app/` path."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for prefix in (r"^.*site-packages/", r"^.*/python3\.\d+/", r"^.*/(?=studio_app/)"):
        path, found = re.subn(prefix, "", path)
        if found:
            break
    return f"{name} ({path})" if path else name


def _parse(raw: str) -> Counter[tuple[str, ...]]:
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in raw.splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            # The first frame is the process ("process 123:\"...\""), then the thread.
            stack = tuple(f for f in frames.split(";") if not f.startswith(("process ", "thread ")))
            if stack:
                stacks[stack] += int(count)
    return stacks


@contextmanager
def recording(pids: list[int]) -> Iterator[Samples]:
    """Sample `pids` and their child processes until the block ends; fills the Samples."""
    executable = py_spy()
    samples = Samples()
    if executable is None:
        yield samples
        return
    with tempfile.TemporaryDirectory(prefix="studio-py-spy-") as tmp:
        recorders = []
        for pid in pids:
            output = Path(tmp) / f"{pid}.txt"
            command = [executable, "record", "--pid", str(pid), "--subprocesses"]
            command += ["--rate", str(RATE_HZ), "--format", "raw", "--nonblocking"]
            command += ["--output", str(output)]
            process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            recorders.append((process, output))
        try:
            yield samples
        finally:
            for process, _ in recorders:
                process.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
            for process, output in recorders:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.kill(process.pid, signal.SIGKILL)
                if output.exists():
                    for stack, n in _parse(output.read_text()).items():
                        if _short(stack[-1]).endswith(WAITING):
                            samples.waiting += n
                        else:
                            samples.stacks[stack] += n
