"""``tenfold conformance --report out/conformance.html``: the heat map as one self-contained HTML file and a PNG.

The HTML has no external resource (inline CSS, no script, no image link): it
can be mailed or attached to a CI run as is. It shows the summary, the heat
map of :mod:`.heatmap` (a tooltip per cell: checks, worst case, errors and
tolerance), every failure in red with the command that reproduces it, and
the text matrix. The PNG (same name, ``.png``) is the heat map alone, drawn
without matplotlib.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

from tenfold import png
from tenfold.spec.checkpoints import atomic_write

from . import heatmap, report
from .case import Result

_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
.ok { color: #1a7f37; } .bad { color: #c62828; }
table.heat { border-collapse: collapse; margin: 1em 0; }
table.heat th, table.heat td { padding: 2px 8px; border: 1px solid #fff; font: 12px ui-monospace, monospace; }
table.heat th { background: #f4f4f4; text-align: left; }
table.heat tr.first td, table.heat tr.first th { border-top: 2px solid #888; }
table.heat td.cell { text-align: right; min-width: 6em; }
td.fail { color: #fff; font-weight: bold; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 4px; font: 12px monospace; }
li.fail { color: #c62828; margin-bottom: .6em; }
code, pre { font: 12px ui-monospace, monospace; } pre { background: #f7f7f7; padding: .8em; overflow-x: auto; }
"""


def _rgb(c: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*c)


def _environment() -> str:
    parts = [f"tenfold {_version()}", f"Python {platform.python_version()}", platform.platform(terse=True)]
    for name in ("numpy", "torch", "tensorflow", "onnxruntime"):
        module = sys.modules.get(name)
        if module is not None:
            parts.append(f"{name} {getattr(module, '__version__', '?')}")
    return ", ".join(parts)


def _version() -> str:
    from tenfold import __version__

    return __version__


def _tooltip(row: heatmap.Row, dtype: str, cell: heatmap.Cell) -> str:
    w = cell.worst
    lines = [f"{'/'.join(row)}/{dtype}: {cell.checks} checks, {cell.failed} failed",
             f"worst error / tolerance {cell.ratio:.3g}" + (f" in case {w.case!r}" if w else "")]
    if w is not None:
        lines.append(f"max abs {w.max_abs_err:.3g}, max rel {w.max_rel_err:.3g}; atol {w.atol:.3g}, rtol {w.rtol:.3g}")
        if w.detail:
            lines.append(w.detail)
    return "\n".join(lines)


def render_html(results: Sequence[Result], title: str = "tenfold conformance", command: str = "") -> str:
    """The report as one HTML document (string)."""
    hm = heatmap.build(results)
    failed = [r for r in results if not r.passed]
    esc = html.escape
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    verdict = (f'<b class="ok">{len(results)} checks passed</b>' if not failed else
               f'<b class="bad">{len(failed)} of {len(results)} checks FAILED</b>')
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{esc(title)}</h1>", f"<p>{verdict} &middot; {esc(when)}<br>{esc(_environment())}"
           + (f"<br><code>{esc(command)}</code>" if command else "") + "</p>",
           "<p>Each cell: the worst error over the tolerance, max |actual &minus; reference| / (atol + rtol "
           "&middot; |reference|), of the checks of one method, backend, mode and dtype; 1 is the edge of the "
           "tolerance. Hover a cell for its worst case.</p>", '<p class="legend">']
    for name, ratio in (("&le;1e-4", heatmap.FLOOR), ("1e-3", 1e-3), ("1e-2", 1e-2), ("1e-1", 1e-1), ("1", 1.0)):
        rgb = heatmap.colour(heatmap.Cell(checks=1, ratio=ratio))
        out.append(f'<span style="background:{_rgb(rgb)}">{name}</span>')
    out.append(f'<span style="background:{_rgb(heatmap.FAIL_RGB)};color:#fff">fail</span>'
               f'<span style="background:{_rgb(heatmap.EMPTY_RGB)}">not run</span></p>')
    out.append('<table class="heat"><thead><tr><th>method</th><th>backend</th><th>mode</th>'
               + "".join(f"<th>{esc(c)}</th>" for c in hm.columns) + "</tr></thead><tbody>")
    previous = None
    for row in hm.rows:
        first = ' class="first"' if row[0] != previous else ""
        previous = row[0]
        cells = []
        for col in hm.columns:
            cell = hm.cells.get((row, col))
            if cell is None:
                cells.append(f'<td class="cell" style="background:{_rgb(heatmap.EMPTY_RGB)}"></td>')
                continue
            klass = "cell fail" if cell.failed else "cell"
            cells.append(f'<td class="{klass}" style="background:{_rgb(heatmap.colour(cell))}" '
                         f'title="{esc(_tooltip(row, col, cell))}">{esc(heatmap.label(cell))}</td>')
        out.append(f"<tr{first}><th>{esc(row[0])}</th><td>{esc(row[1])}</td><td>{esc(row[2])}</td>"
                   + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    if failed:
        out.append(f'<h2 class="bad">Failures ({len(failed)})</h2><ol>')
        for r in failed:
            out.append(f'<li class="fail"><b>{esc(r.method)}/{esc(r.backend)}/{esc(r.mode)}/{esc(r.dtype)}/'
                       f"{esc(r.case)}</b> seed={r.seed}: {esc(r.detail)}<br>reproduce: <code>{esc(r.repro)}</code>"
                       "</li>")
        out.append("</ol>")
    out.append("<details><summary>The matrix as text</summary><pre>"
               f"{esc(report.format_matrix(results))}</pre></details>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def png_path(html_path: str | os.PathLike) -> Path:
    """Where the PNG goes: next to the HTML file, with the suffix ``.png``."""
    return Path(html_path).with_suffix(".png")


def write_report(results: Sequence[Result], path: str | os.PathLike, command: str = "") -> tuple[Path, Path]:
    """Write the HTML report to ``path`` and the heat map PNG next to it (both atomically)."""
    text = render_html(results, command=command).encode()
    html_file = atomic_write(path, lambda fh: fh.write(text))
    hm = heatmap.build(results)
    title = f"TENFOLD CONFORMANCE: {hm.checks - hm.failed} PASSED, {hm.failed} FAILED"
    png_file = png.write_png(png_path(path), heatmap.render_png(hm, title))
    return html_file, png_file


__all__ = ["png_path", "render_html", "write_report"]
