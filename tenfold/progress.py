"""Progress of long commands: a bar on a terminal, plain lines in logs, nothing with ``--quiet``.

Every long-running ``tenfold`` command (``conformance``, ``export``, ``bench``,
``train``) reports progress through this module, so that all of them look and
behave alike and honour the same switches. Progress goes to standard error;
standard output stays for results (the matrix, a benchmark's table, JSON).

Modes (:data:`MODES`):

* ``"bar"``: a live bar drawn by `rich <https://github.com/Textualize/rich>`_
  (an optional dependency: ``pip install tenfold[progress]``), with one
  permanent line per finished group or step above it.
* ``"plain"``: lines only, one per finished group (``[conformance] mish:
  165/165 passed in 2.6 s (165/1109 checks, 2.6 s)``) or per step
  (``[vit export] exporting with tf2onnx``), plus a heartbeat line every
  :data:`HEARTBEAT_S` seconds inside a long group, so a CI log never looks hung.
* ``"none"``: silent (``--quiet``).
* ``"auto"`` (the default): ``bar`` when the stream is a terminal and rich is
  installed, else ``plain``.

The mode is decided, first match wins, by the ``mode`` argument, then
:func:`set_mode` (``tenfold --quiet`` and ``tenfold export ... --quiet`` call
``set_mode("none")``), then the environment variable ``TENFOLD_PROGRESS``
(``auto``, ``bar``, ``plain``, ``none``), then ``auto``.

API (what other commands call):

``Progress(total, label, *, groups=None, unit="checks", mode=None, stream=None)``
    Counted work in named groups (conformance: checks grouped by method).
    Use as a context manager; call ``advance(group, ok=True, n=1)`` after each
    item. A group's line is printed when the next group starts and at the
    end. ``groups`` maps group -> item count (shown as ``165/165``); ``failed``
    and ``done`` give the totals so far.

``Steps(label, *, mode=None, stream=None)``
    Named stages of one job (an export, a benchmark): ``say(text)`` (or
    calling the object) starts the stage ``text``; on a terminal a spinner
    shows the running stage and its time, and each finished stage stays as a
    ``✓ text (1.2 s)`` line; in plain mode each stage prints ``[label] text``
    when it starts. Use as a context manager; ``say`` may be passed wherever a
    ``Callable[[str], None]`` progress hook is expected.

``track(iterable, label, *, total=None, group=None, mode=None, stream=None)``
    Iterate with a :class:`Progress` (``group(item)`` names an item's group).

``set_mode(mode)`` / ``get_mode()``
    The process-wide default (``None``: none set).

``close_all()``
    Close every reporter still showing a bar (the ``tenfold`` command calls it on exit).

``resolve_mode(mode=None, stream=None) -> str``
    The concrete mode (``bar``, ``plain`` or ``none``) a reporter would use.

Example::

    from tenfold import progress

    with progress.Progress(len(checks), "conformance", groups={"mish": 60, "vit": 87}) as bar:
        for check in checks:
            result = run_check(check)
            bar.advance(check.method, ok=result.passed)

    with progress.Steps("frelu export") as say:
        say("building the torch model")
        ...
        say("checking in onnxruntime")
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TextIO, TypeVar

from tenfold.spec.errors import ConfigError, expected

#: The modes a reporter can be in; ``auto`` resolves to ``bar`` or ``plain``.
MODES: tuple[str, ...] = ("auto", "bar", "plain", "none")

#: The environment variable that sets the default mode.
ENV = "TENFOLD_PROGRESS"

#: Seconds between heartbeat lines inside one long group in plain mode.
HEARTBEAT_S = 30.0

_default: str | None = None
_open: weakref.WeakSet = weakref.WeakSet()  # reporters with a live display, for close_all()
T = TypeVar("T")


def set_mode(mode: str | None) -> None:
    """Set the process-wide default mode (``None`` restores the environment's / ``auto``)."""
    global _default
    if mode is not None and mode not in MODES:
        raise ConfigError(expected("progress.set_mode", "one of " + ", ".join(MODES), repr(mode)))
    _default = mode


def get_mode() -> str | None:
    """The process-wide default set by :func:`set_mode` (``None``: none set)."""
    return _default


def close_all() -> None:
    """Close every reporter still open (``tenfold`` calls it on exit, so no bar outlives a crash)."""
    for reporter in list(_open):
        reporter.close()


def rich_available() -> bool:
    """True when the optional ``rich`` package can be imported (nothing is imported)."""
    return importlib.util.find_spec("rich") is not None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty()) and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):  # closed or fake streams
        return False


def resolve_mode(mode: str | None = None, stream: TextIO | None = None) -> str:
    """The concrete mode, ``"bar"``, ``"plain"`` or ``"none"``, for ``stream`` (default stderr).

    Raises:
        ConfigError: If ``mode`` or ``TENFOLD_PROGRESS`` is not one of :data:`MODES`.
    """
    stream = sys.stderr if stream is None else stream
    chosen = mode or _default or os.environ.get(ENV, "").strip().lower() or "auto"
    if chosen not in MODES:
        where = "progress mode" if (mode or _default) else f"environment variable {ENV}"
        raise ConfigError(expected(where, "one of " + ", ".join(MODES), repr(chosen)))
    if chosen == "bar" and not rich_available():
        return "plain"
    if chosen == "auto":
        return "bar" if _is_terminal(stream) and rich_available() else "plain"
    return chosen


def _seconds(s: float) -> str:
    return f"{s:.1f} s" if s < 600 else f"{s / 60:.1f} min"


def _console(stream: TextIO):
    from rich.console import Console

    return Console(file=stream, highlight=False)


@dataclass
class GroupStats:
    """Counts and time of one group of a :class:`Progress`."""

    name: str
    total: int | None
    done: int = 0
    failed: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        return self.done - self.failed


class Progress:
    """Counted work in named groups; see the module docstring."""

    def __init__(self, total: int | None, label: str, *, groups: Mapping[str, int] | None = None,
                 unit: str = "checks", mode: str | None = None, stream: TextIO | None = None) -> None:
        self.total, self.label, self.unit = total, label, unit
        self.stream = sys.stderr if stream is None else stream
        self.mode = resolve_mode(mode, self.stream)
        self.group_totals = dict(groups or {})
        self.groups: dict[str, GroupStats] = {}
        self.done = self.failed = 0
        self._current: GroupStats | None = None
        self._start = self._group_start = self._beat = self._last = time.perf_counter()
        self._bar = self._task = None
        self._closed = False
        if self.mode == "bar":
            import rich.progress as rp

            self._bar = rp.Progress(rp.SpinnerColumn(), rp.TextColumn("[bold]{task.description}"), rp.BarColumn(),
                                    rp.MofNCompleteColumn(), rp.TextColumn("{task.fields[failures]}"),
                                    rp.TimeElapsedColumn(), rp.TextColumn("eta"), rp.TimeRemainingColumn(),
                                    console=_console(self.stream), transient=True)
            self._bar.start()
            self._task = self._bar.add_task(label, total=total, failures="")
            _open.add(self)

    # -- reporting -------------------------------------------------------------------------------------------
    def _emit(self, text: str, style: str = "") -> None:
        if self.mode == "plain":
            print(text, file=self.stream, flush=True)
        elif self.mode == "bar":
            self._bar.console.print(text, style=style or None, markup=False)

    def _group_line(self, g: GroupStats) -> str:
        of = f"{g.passed}/{g.total if g.total is not None else g.done} passed"
        fail = f", {g.failed} FAILED" if g.failed else ""
        overall = f"{self.done}/{self.total}" if self.total is not None else f"{self.done}"
        name = f" {g.name}:" if g.name else ""
        return (f"[{self.label}]{name} {of}{fail} in {_seconds(g.seconds)} "
                f"({overall} {self.unit}, {_seconds(time.perf_counter() - self._start)})")

    def _finish_group(self) -> None:
        g = self._current
        if g is None:
            return
        g.seconds += self._last - self._group_start
        self._emit(self._group_line(g), "red" if g.failed else "green")
        self._current = None

    def advance(self, group: str = "", ok: bool = True, n: int = 1) -> None:
        """Count ``n`` finished items of ``group`` (``ok=False``: they failed)."""
        if self._closed:
            return
        now = time.perf_counter()
        if self._current is None or self._current.name != group:
            self._finish_group()
            self._current = self.groups.setdefault(group, GroupStats(group, self.group_totals.get(group)))
            self._group_start = self._beat = self._last  # the group's first item began when the last one ended
        self._last = now
        g = self._current
        g.done += n
        self.done += n
        if not ok:
            g.failed += n
            self.failed += n
        if self.mode == "bar":
            failures = f"[red]{self.failed} failed[/red]" if self.failed else ""
            self._bar.update(self._task, advance=n, description=f"{self.label} {group}".strip(), failures=failures)
        elif self.mode == "plain" and now - self._beat >= HEARTBEAT_S:
            self._beat = now
            of = f"/{g.total}" if g.total is not None else ""
            name = f" {group}:" if group else ""
            self._emit(f"[{self.label}]{name} {g.done}{of} {self.unit} so far ({_seconds(now - self._group_start)})")

    def close(self) -> None:
        """Print the last group's line and remove the bar."""
        if self._closed:
            return
        self._closed = True
        self._finish_group()
        if self._bar is not None:
            self._bar.stop()
        _open.discard(self)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Steps:
    """Named stages of one job; see the module docstring."""

    def __init__(self, label: str, *, mode: str | None = None, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.mode = resolve_mode(mode, self.stream)
        self.history: list[tuple[str, float]] = []
        self._text: str | None = None
        self._since = self._start = time.perf_counter()
        self._bar = self._task = None
        if self.mode == "bar":
            import rich.progress as rp

            self._bar = rp.Progress(rp.SpinnerColumn(), rp.TextColumn("{task.description}"), rp.TimeElapsedColumn(),
                                    console=_console(self.stream), transient=True)
            self._bar.start()
            self._task = self._bar.add_task(f"[{label}]", total=None)
            _open.add(self)

    def _end_step(self) -> None:
        if self._text is None:
            return
        took = time.perf_counter() - self._since
        self.history.append((self._text, took))
        if self.mode == "bar":
            self._bar.console.print(f"✓ [{self.label}] {self._text} ({_seconds(took)})", markup=False,
                                    highlight=False)
        self._text = None

    def say(self, text: str) -> None:
        """Start the stage ``text`` (ending the previous one); a leading ``[label]`` in ``text`` is dropped."""
        self._end_step()
        text = text.removeprefix(f"[{self.label}] ")
        self._text, self._since = text, time.perf_counter()
        if self.mode == "plain":
            print(f"[{self.label}] {text}", file=self.stream, flush=True)
        elif self.mode == "bar":
            self._bar.update(self._task, description=f"[{self.label}] {text}")

    __call__ = say

    @property
    def seconds(self) -> float:
        """Seconds since the reporter was made."""
        return time.perf_counter() - self._start

    def close(self) -> None:
        """End the running stage and remove the spinner."""
        self._end_step()
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        _open.discard(self)

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def track(iterable: Iterable[T], label: str, *, total: int | None = None, group: Callable[[T], str] | None = None,
          unit: str = "items", mode: str | None = None, stream: TextIO | None = None) -> Iterator[T]:
    """Yield the items of ``iterable`` while a :class:`Progress` counts them (an item counts once it is done)."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(total, label, unit=unit, mode=mode, stream=stream) as bar:
        for item in iterable:
            yield item
            bar.advance(group(item) if group else "", True)


__all__ = ["ENV", "HEARTBEAT_S", "MODES", "GroupStats", "Progress", "Steps", "close_all", "get_mode",
           "resolve_mode", "rich_available", "set_mode", "track"]
