"""The conformance heat map: the worst error over the tolerance per method x backend x mode x dtype.

Each cell gathers the checks of one (method, backend, mode) suite in one dtype
and shows the largest :attr:`Result.worst_ratio`, ``max |a - e| / (atol +
rtol * |e|)``: 0 is exact, 1 is the edge of the tolerance, above 1 fails. Rows
are (method, backend, mode) in the order the suite ran; columns are dtypes.
Colour: green (ratio <= 1e-4) through yellow to orange (ratio 1) on a log
scale, red for a cell with any failure, gray where nothing ran.

:func:`build` makes the grid from results; :func:`render_png` draws it as an
RGB array (no matplotlib: :mod:`tenfold.png`'s pixel font);
:mod:`.html_report` writes it as HTML.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tenfold import png

from .backends import BACKENDS
from .case import Result

#: Column order: the tested dtypes, then ``-`` (checks without a dtype: the API row).
DTYPE_ORDER: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64", "-")
#: Ratios at or below this are the greenest colour.
FLOOR = 1e-4
FAIL_RGB = (214, 39, 40)
EMPTY_RGB = (236, 236, 236)
_RAMP = ((0.0, (44, 160, 44)), (0.75, (240, 212, 70)), (1.0, (247, 139, 46)))  # t -> colour

Row = tuple[str, str, str]  # (method, backend, mode)


@dataclass
class Cell:
    """The checks of one suite in one dtype."""

    checks: int = 0
    failed: int = 0
    ratio: float = 0.0
    worst: Result | None = None
    failures: list[Result] = field(default_factory=list)


@dataclass
class HeatMap:
    """Rows (method, backend, mode), dtype columns, and a :class:`Cell` per filled position."""

    rows: list[Row]
    columns: list[str]
    cells: dict[tuple[Row, str], Cell]

    @property
    def checks(self) -> int:
        return sum(c.checks for c in self.cells.values())

    @property
    def failed(self) -> int:
        return sum(c.failed for c in self.cells.values())


def ratio_of(result: Result) -> float:
    """A result's worst error over tolerance (results without one count 0 when passed, inf when failed)."""
    r = getattr(result, "worst_ratio", math.nan)
    if r is None or (isinstance(r, float) and math.isnan(r)):
        return 0.0 if result.passed else math.inf
    return float(r)


def build(results: Sequence[Result]) -> HeatMap:
    """Group ``results`` into the heat map's cells."""
    methods: list[str] = []
    modes: dict[tuple[str, str], list[str]] = {}
    cells: dict[tuple[Row, str], Cell] = {}
    for r in results:
        if r.method not in methods:
            methods.append(r.method)
        seen = modes.setdefault((r.method, r.backend), [])
        if r.mode not in seen:
            seen.append(r.mode)
        cell = cells.setdefault(((r.method, r.backend, r.mode), r.dtype), Cell())
        cell.checks += 1
        ratio = ratio_of(r)
        if not r.passed:
            cell.failed += 1
            cell.failures.append(r)
        if cell.worst is None or ratio > cell.ratio or (not r.passed and cell.worst.passed):
            cell.ratio, cell.worst = max(cell.ratio, ratio), r
    order = list(BACKENDS)
    rows = [(m, b, mode) for m in methods
            for b in sorted({b for (mm, b) in modes if mm == m}, key=lambda b: order.index(b) if b in order else 99)
            for mode in modes[(m, b)]]
    present = {dtype for (_, dtype) in cells}
    columns = [d for d in DTYPE_ORDER if d in present] + sorted(present - set(DTYPE_ORDER))
    return HeatMap(rows, columns, cells)


def colour(cell: Cell | None) -> tuple[int, int, int]:
    """The cell's RGB colour: gray when empty, red on any failure, else the log-scale ramp of its ratio."""
    if cell is None or cell.checks == 0:
        return EMPTY_RGB
    if cell.failed or not cell.ratio <= 1.0:
        return FAIL_RGB
    t = 0.0 if cell.ratio <= FLOOR else (math.log10(cell.ratio) - math.log10(FLOOR)) / -math.log10(FLOOR)
    for (t0, c0), (t1, c1) in itertools.pairwise(_RAMP):
        if t <= t1:
            w = (t - t0) / (t1 - t0)
            return tuple(round(a + (b - a) * w) for a, b in zip(c0, c1, strict=True))  # type: ignore[return-value]
    return _RAMP[-1][1]


def label(cell: Cell | None) -> str:
    """The text in a cell: the ratio (``0``, ``<1e-4``, ``3.1e-02``), or ``FAIL n/m``."""
    if cell is None or cell.checks == 0:
        return ""
    if cell.failed:
        return f"FAIL {cell.failed}/{cell.checks}"
    if cell.ratio == 0:
        return "0"
    return f"<{FLOOR:.0e}" if cell.ratio < FLOOR else f"{cell.ratio:.1e}"


def _text_rgb(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return (255, 255, 255) if rgb == FAIL_RGB else (20, 20, 20)


def render_png(heatmap: HeatMap, title: str, scale: int = 2) -> np.ndarray:
    """The heat map as an RGB ``uint8`` image (H, W, 3): title, dtype header, labelled rows, legend."""
    adv, gh, pad = png.ADVANCE, png.GLYPH_H, 3
    row_h = gh + 2 * pad
    widths = [max((len(v) for v in col), default=4) for col in zip(*heatmap.rows, strict=False)] or [6, 7, 4]
    label_cols = [max(w, len(h)) for w, h in zip(widths, ("method", "backend", "mode"), strict=True)]
    label_w = pad + sum(w * adv for w in label_cols) + 3 * 2 * adv  # three columns, each followed by a gap
    cell_w = max([len("FAIL 99/99"), *(len(c) for c in heatmap.columns)]) * adv + 2 * pad
    legend = [("<1E-4", 0.5 * FLOOR), ("1E-3", 1e-3), ("1E-2", 1e-2), ("1E-1", 1e-1), ("1", 1.0), ("FAIL", None)]
    subtitle = "WORST ERROR / TOLERANCE PER CHECK GROUP (<= 1 PASSES)"
    width = max(label_w + cell_w * max(len(heatmap.columns), 1), (len(title) + 2) * adv, (len(subtitle) + 2) * adv,
                len(legend) * (cell_w + pad)) + 2 * pad
    top = 2 * row_h + pad
    height = top + row_h * (len(heatmap.rows) + 1) + 2 * row_h + pad
    img = np.full((height, width, 3), 255, np.uint8)
    png.draw_text(img, pad, pad, title, (0, 0, 0))
    png.draw_text(img, pad, pad + row_h, subtitle, (90, 90, 90))
    xs = [pad + sum(label_cols[:i]) * adv + i * 2 * adv for i in range(3)]
    for x, name in zip(xs, ("method", "backend", "mode"), strict=True):
        png.draw_text(img, x, top + pad, name, (0, 0, 0))
    for j, col in enumerate(heatmap.columns):
        png.draw_text(img, label_w + j * cell_w + pad, top + pad, col, (0, 0, 0))
    previous = None
    for i, row in enumerate(heatmap.rows):
        y = top + row_h * (i + 1)
        if row[0] != previous:
            img[y, pad:label_w + cell_w * len(heatmap.columns)] = (120, 120, 120)
            previous = row[0]
        for x, text in zip(xs, row, strict=True):
            png.draw_text(img, x, y + pad, text, (0, 0, 0))
        for j, col in enumerate(heatmap.columns):
            cell = heatmap.cells.get((row, col))
            x0 = label_w + j * cell_w
            rgb = colour(cell)
            img[y + 1:y + row_h, x0 + 1:x0 + cell_w] = rgb
            png.draw_text(img, x0 + pad, y + pad, label(cell), _text_rgb(rgb))
    y = top + row_h * (len(heatmap.rows) + 1) + row_h
    for k, (name, ratio) in enumerate(legend):
        cell = Cell(checks=1, failed=int(ratio is None), ratio=ratio if ratio is not None else math.inf)
        x0 = pad + k * (cell_w + pad)
        rgb = colour(cell)
        img[y:y + row_h, x0:x0 + cell_w] = rgb
        png.draw_text(img, x0 + pad, y + pad, name, _text_rgb(rgb))
    return np.kron(img, np.ones((scale, scale, 1), np.uint8)) if scale > 1 else img


__all__ = ["DTYPE_ORDER", "EMPTY_RGB", "FAIL_RGB", "FLOOR", "Cell", "HeatMap", "build", "colour", "label",
           "ratio_of", "render_png"]
