"""tenfold.progress: plain lines for logs, a rich bar on terminals, silence with --quiet; the CLI wiring."""

import argparse
import io
import re

import pytest

from tenfold import progress
from tenfold.spec.errors import ConfigError

GROUP_LINE = re.compile(r"^\[conformance\] (\w+): (\d+)/(\d+) passed(?:, (\d+) FAILED)? in \d+\.\d s "
                        r"\((\d+)/(\d+) checks, \d+\.\d s\)$")


def _feed(bar):
    for ok in (True, False, True):
        bar.advance("mish", ok=ok)
    for _ in range(2):
        bar.advance("vit")


def test_plain_mode_prints_one_line_per_group_with_counts():
    out = io.StringIO()
    with progress.Progress(5, "conformance", groups={"mish": 3, "vit": 2}, mode="plain", stream=out) as bar:
        _feed(bar)
        assert bar.done == 5 and bar.failed == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines
    parsed = [GROUP_LINE.match(line).groups() for line in lines]
    assert parsed[0] == ("mish", "2", "3", "1", "3", "5")
    assert parsed[1] == ("vit", "2", "2", None, "5", "5")


def test_group_time_starts_when_the_previous_group_ends(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: now[0])
    out = io.StringIO()
    bar = progress.Progress(3, "conformance", groups={"mish": 1, "vit": 2}, mode="plain", stream=out)
    for t, group in ((5.0, "mish"), (12.0, "vit"), (20.0, "vit")):  # the times each item is done
        now[0] = t
        bar.advance(group)
    bar.close()
    assert [g.seconds for g in bar.groups.values()] == [5.0, 15.0]
    assert " in 5.0 s " in out.getvalue() and " in 15.0 s " in out.getvalue()


def test_plain_heartbeat_inside_a_long_group(monkeypatch):
    monkeypatch.setattr(progress, "HEARTBEAT_S", 0.0)
    out = io.StringIO()
    with progress.Progress(2, "conformance", groups={"cutmix": 2}, mode="plain", stream=out) as bar:
        bar.advance("cutmix")
        bar.advance("cutmix")
    lines = out.getvalue().splitlines()
    for i in (0, 1):
        assert re.match(rf"^\[conformance\] cutmix: {i + 1}/2 checks so far \(\d+\.\d s\)$", lines[i]), lines
    assert GROUP_LINE.match(lines[2]) and len(lines) == 3


def test_none_mode_and_environment(monkeypatch):
    out = io.StringIO()
    with progress.Progress(5, "conformance", mode="none", stream=out) as bar:
        _feed(bar)
    with progress.Steps("x", mode="none", stream=out) as say:
        say("a")
    assert out.getvalue() == ""
    assert progress.resolve_mode(stream=io.StringIO()) == "plain"  # not a terminal
    monkeypatch.setenv(progress.ENV, "none")
    assert progress.resolve_mode(stream=io.StringIO()) == "none"
    monkeypatch.setenv(progress.ENV, "loud")
    with pytest.raises(ConfigError, match="TENFOLD_PROGRESS"):
        progress.resolve_mode()
    monkeypatch.delenv(progress.ENV)
    progress.set_mode("none")
    try:
        assert progress.resolve_mode(stream=io.StringIO()) == "none"
        assert progress.resolve_mode("plain", io.StringIO()) == "plain"  # the explicit argument wins
    finally:
        progress.set_mode(None)
    with pytest.raises(ConfigError):
        progress.set_mode("loud")


def test_auto_picks_the_bar_on_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr(progress, "rich_available", lambda: True)
    assert progress.resolve_mode(stream=Tty()) == "bar"
    monkeypatch.setattr(progress, "rich_available", lambda: False)  # the optional dependency is missing
    assert progress.resolve_mode(stream=Tty()) == "plain"
    assert progress.resolve_mode("bar", Tty()) == "plain"
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setattr(progress, "rich_available", lambda: True)
    assert progress.resolve_mode(stream=Tty()) == "plain"


def test_bar_mode_keeps_the_group_lines():
    pytest.importorskip("rich")
    out = io.StringIO()
    with progress.Progress(5, "conformance", groups={"mish": 3, "vit": 2}, mode="bar", stream=out) as bar:
        _feed(bar)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    assert [GROUP_LINE.match(ln).group(1) for ln in lines] == ["mish", "vit"]
    out = io.StringIO()
    with progress.Steps("vit export", mode="bar", stream=out) as say:
        say("building")
        say("[vit export] exporting")
    assert re.findall(r"✓ \[vit export\] (\w+) \(\d+\.\d s\)", out.getvalue()) == ["building", "exporting"]


def test_steps_plain_lines_and_track():
    out = io.StringIO()
    with progress.Steps("vit export", mode="plain", stream=out) as say:
        say("building the torch model")
        say("[vit export] exporting with tf2onnx")  # an already-prefixed message is not prefixed twice
    assert out.getvalue().splitlines() == ["[vit export] building the torch model",
                                           "[vit export] exporting with tf2onnx"]
    assert [t for t, _ in say.history] == ["building the torch model", "exporting with tf2onnx"]
    out = io.StringIO()
    items = list(progress.track(range(4), "rounds", group=lambda i: "even" if i % 2 == 0 else "odd", mode="plain",
                                stream=out))
    assert items == [0, 1, 2, 3]
    assert [ln.split(":")[0] for ln in out.getvalue().splitlines()] == ["[rounds] even", "[rounds] odd"] * 2


def test_conformance_prints_progress_per_method_and_quiet_silences_it(capsys):
    from tenfold.cli import main

    pytest.importorskip("torch")
    few = ["--backend", "torch", "--dtype", "float32", "--mode", "eager", "--mode", "fused"]
    assert main(["conformance", "--method", "mish", "--method", "radam", *few]) == 0
    captured = capsys.readouterr()
    lines = [GROUP_LINE.match(ln) for ln in captured.err.splitlines() if ln.startswith("[conformance]")]
    assert [m.group(1) for m in lines] == ["mish", "radam"]
    total = int(re.search(r"(\d+) passed, 0 failed", captured.out).group(1))
    assert sum(int(m.group(2)) for m in lines) == total == int(lines[-1].group(6))
    assert main(["conformance", "--method", "mish", *few, "--quiet"]) == 0
    assert "[conformance]" not in capsys.readouterr().err
    assert main(["-q", "conformance", "--method", "mish", *few]) == 0
    captured = capsys.readouterr()
    assert "[conformance]" not in captured.err and "mish     torch" in captured.out
    assert progress.get_mode() is None  # restored after the command


def test_plugin_quiet_flag_silences_progress_for_the_run():
    from tenfold.commands import dispatch

    seen = []
    args = argparse.Namespace(quiet=True, plugin_run=lambda a: seen.append(progress.resolve_mode()) or 0)
    assert dispatch.run(args) == 0 and seen == ["none"]
    assert progress.get_mode() is None


def test_close_all_ends_a_bar_left_open():
    pytest.importorskip("rich")
    out = io.StringIO()
    bar = progress.Progress(3, "conformance", groups={"vit": 3}, mode="bar", stream=out)
    steps = progress.Steps("vit export", mode="bar", stream=out)
    bar.advance("vit")
    steps("exporting")
    progress.close_all()  # what `tenfold` does when a command crashes
    assert bar._closed and steps._bar is None and not list(progress._open)
    assert "[conformance] vit: 1/3 passed" in out.getvalue() and "✓ [vit export] exporting" in out.getvalue()
