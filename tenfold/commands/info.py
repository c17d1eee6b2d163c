"""``tenfold info [ID]``: the methods, their layers and status; for one id, its provenance read off the spec.

Without an id: one row per method (status, layers, presets). With an id: the
paper and official code; every config class with each field's default and the
source of that default; every preset with each field's value, what the preset
reproduces, and the fields where the presets (the implementations) disagree;
the dtypes and tolerances per layer; the exported names; and the commands
(conformance, export, bench, train, show). Everything comes from
:mod:`tenfold.catalog`, which reads the code; nothing is written twice.

``--markdown`` prints the README's method table; ``--write-readme README.md``
replaces the generated block in that file; ``--json`` prints the data.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from tenfold import catalog, spec

NAMES = {"info": {}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("method", nargs="?", choices=spec.ALL_METHOD_IDS, metavar="ID",
                        help="method id (" + ", ".join(spec.ALL_METHOD_IDS) + "); without it, the table of methods")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the data as JSON")
    out.add_argument("--markdown", action="store_true", help="print the README's method table (Markdown)")
    out.add_argument("--write-readme", metavar="PATH", help="replace the generated method table in PATH")


def _fmt(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


def table(rows: Sequence[Sequence[object]], header: Sequence[str], indent: str = "  ") -> list[str]:
    """Left-aligned columns; the last column is not padded (long sources wrap in the terminal)."""
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        line = "  ".join(c.ljust(widths[i]) if i < len(row) - 1 else c for i, c in enumerate(row))
        lines.append(indent + line.rstrip())
        if n == 0:
            rule = [w if i < len(widths) - 1 else min(w, 60) for i, w in enumerate(widths)]
            lines.append(indent + "  ".join("-" * w for w in rule))
    return lines


def overview(methods: list[catalog.MethodInfo]) -> str:
    """The table of every method."""
    rows = []
    for m in methods:
        marks = " ".join(name if m.layers.get(name) else "-" * len(name) for name in catalog.MAIN_LAYERS)
        extras = ",".join(x for x in ("conformance", "bench", "train", "show") if m.layers.get(x)) or "-"
        presets = ", ".join(m.preset_names) if m.preset_names else "-"
        rows.append((m.id, m.status, marks, extras, presets if len(presets) <= 40 else presets[:37] + "..."))
    lines = ["tenfold methods (`tenfold info ID` for one method's provenance, presets and tolerances)", ""]
    lines += table(rows, ("id", "status", "layers", "also", "presets"), indent="")
    return "\n".join(lines)


def _config_lines(c: catalog.ConfigInfo) -> list[str]:
    lines = ["", f"{c.name} ({c.module})" + (f": presets {', '.join(p.name for p in c.presets)}" if c.presets else
                                             ": no presets")]
    lines += table([(f.name, _fmt(f.default), f.source) for f in c.fields], ("field", "default", "source of default"))
    differ = c.disagreements()
    if c.presets:
        lines += ["", "  every preset, field by field (* differs from the default):"]
        defaults = {f.name: f.default for f in c.fields}
        for start in range(0, len(c.presets), 5):  # at most five presets side by side
            chunk = c.presets[start:start + 5]
            rows = [(f.name, *(_fmt(p.values[f.name]) + (" *" if repr(p.values[f.name]) != repr(defaults[f.name])
                                                             else "") for p in chunk)) for f in c.fields]
            lines += table(rows, ("field", *(p.name for p in chunk)))
            lines.append("")
        lines.append("  what each preset reproduces:")
        lines += table([(p.name, p.summary or "-") for p in c.presets], ("preset", "reproduces"))
        if differ:
            lines += ["", "  where the presets (implementations) disagree:"]
            lines += table([(name, ", ".join(f"{p}={_fmt(v)}" for p, v in values.items()))
                            for name, values in differ.items()], ("field", "values"))
    lines += [f"  note: {n}" for n in c.notes]
    return lines


def detail(m: catalog.MethodInfo) -> str:
    """Everything about one method, as text."""
    lines = [f"{m.id}: {m.title or '(no spec yet)'}", ""]
    also = ", ".join(x for x in ("conformance", "bench", "train", "show") if m.layers.get(x)) or "-"
    lines += table([("status", m.status), ("paper", m.paper or "-"), ("official code", m.official_code or "-"),
                    ("layers", ", ".join(m.layer_names) or "-"), ("also", also)], ("", ""), indent="")[2:]
    if m.status == catalog.PLANNED:
        return "\n".join([*lines, "", f"No spec module yet (tenfold/spec/{m.id}.py)."])
    for c in m.configs:
        lines += _config_lines(c)
    if not m.configs:
        lines += ["", "No config class: the method has no options."]
    lines += ["", "Dtypes and tolerances"]
    if m.dtypes:
        lines.append(f"  the spec accepts: {', '.join(m.dtypes)}")
    if m.suites:
        lines += table([(b, ", ".join(s["dtypes"]) or "-", ", ".join(s["modes"])) for b, s in m.suites.items()],
                       ("backend", "dtypes checked", "conformance modes"))
    lines.append("")
    lines += table([(t.kind, t.dtype, f"{t.atol:.1e}", f"{t.rtol:.1e}") for t in m.tolerances],
                   ("comparison", "dtype", "atol", "rtol"))
    lines += ["", "  a value passes when |actual - reference| <= atol + rtol * |reference| (reference: numpy_ref, "
                  "float64)"]
    if m.exports:
        lines += ["", "Exported names (conformance checks each layer has them)"]
        lines += table([(f"tenfold.{layer}.{m.id}", ", ".join(names)) for layer, names in m.exports.items()],
                       ("module", "names"))
    if m.commands:
        lines += ["", "Commands"] + [f"  {c}" for c in m.commands]
    if m.notes:
        lines += ["", "Notes"] + [f"  {n}" for n in m.notes]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.write_readme:
        path = Path(args.write_readme)
        try:
            text = path.read_text()
            new = catalog.with_readme_table(text, catalog.markdown_table())
        except (OSError, ValueError) as err:
            print(f"tenfold info: {err}", file=sys.stderr)
            return 2
        if new != text:
            path.write_text(new)
        print(f"{path}: method table {'updated' if new != text else 'already up to date'}")
        return 0
    if args.markdown:
        print(catalog.markdown_table())
        return 0
    if args.method:
        info = catalog.method_info(args.method)
        print(json.dumps(info.to_dict(), indent=1, default=repr) if args.json else detail(info))
        return 0
    methods = catalog.all_methods()
    print(json.dumps([m.to_dict() for m in methods], indent=1, default=repr) if args.json else overview(methods))
    return 0


__all__ = ["NAMES", "add_arguments", "detail", "overview", "run", "table"]
