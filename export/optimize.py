"""onnxruntime speed: session options, transformer fusions, and the optimised graph saved offline.

What each knob does (measured by ``tenfold bench vit`` / ``tenfold bench frelu``, whose reports
give the figures of the machine they run on):

* graph optimisation level (:data:`LEVELS`): ``basic`` folds constants and removes redundant
  nodes; ``extended`` adds fusions (MatMul+Add into Gemm, LayerNorm, GELU); ``all`` adds layout
  transforms for the CPU (NCHWc blocked convolutions -- the big gain for FReLU's ResNets);
  onnxruntime's default is ``all``.
* transformer fusions (:func:`fuse_transformer`, ``onnxruntime.transformers.optimizer``):
  SkipLayerNormalization (residual add + LayerNorm), BiasGelu (bias add + GELU) and, where the
  attention pattern is recognised, one Attention node. They are contrib (``com.microsoft``)
  operators: onnxruntime only.
* threads (:func:`session_options`): ``intra_op_num_threads`` (default: one per physical core)
  and whether idle workers spin; spinning helps a dedicated machine and hurts a shared one.
* the optimised graph saved offline (:func:`optimize_offline`): the graph after onnxruntime's
  optimisations is written to a file, so that a server skips the optimisation passes at start-up.
  ``extended`` is portable; ``all`` writes layouts specific to this CPU (onnxruntime warns), so
  save at ``extended`` and let ``all`` apply its layout passes at load time.

All of these keep the model exact to float32 rounding: ``tenfold verify`` passes on every file
written here (the fusions change the order of a few additions, well inside the ONNX tolerance).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from tenfold.spec.errors import ExportError, expected

#: Graph optimisation levels by name (onnxruntime.GraphOptimizationLevel).
LEVELS = ("disable", "basic", "extended", "all")


def _level(name: str):
    import onnxruntime as ort

    table = {"disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
             "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
             "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
             "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}
    if name not in table:
        raise ExportError(expected("session_options", "a level among " + ", ".join(LEVELS), repr(name)))
    return table[name]


def session_options(threads: int | None = None, level: str = "all", spinning: bool | None = None,
                    optimized_path: str | os.PathLike | None = None):
    """``onnxruntime.SessionOptions`` from plain values.

    Args:
        threads: Intra-op threads (``None``: onnxruntime's default, one per physical core).
        level: Graph optimisation level, one of :data:`LEVELS`.
        spinning: Whether idle intra-op workers spin (``None``: onnxruntime's default, they do).
        optimized_path: Write the optimised graph there when the session is created.
    """
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = _level(level)
    if threads is not None:
        if not isinstance(threads, int) or threads < 1:
            raise ExportError(expected("session_options", "threads >= 1 or None", repr(threads)))
        so.intra_op_num_threads = threads
    if spinning is not None:
        so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    if optimized_path is not None:
        so.optimized_model_filepath = os.fspath(optimized_path)
    return so


def optimize_offline(src: str | os.PathLike, dst: str | os.PathLike, level: str = "extended",
                     provider: str = "cpu") -> Path:
    """Save the graph onnxruntime optimised at ``level`` to ``dst`` (atomically), for a fast start-up.

    The file keeps the model's ``metadata_props``. Load it with level ``all`` (the
    default): the passes already applied are not repeated, and the CPU-specific
    layout passes of ``all`` run at load time. A file saved at level ``all`` holds
    layouts for this CPU only; load it on the same kind of machine, with level ``disable``.

    Raises:
        ExportError: If onnxruntime cannot load ``src`` or write the file.
    """
    from .onnx_io import write_atomic_from
    from .runtime import runner

    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    try:
        def produce(tmp: Path) -> None:
            options = session_options(level=level, optimized_path=tmp)
            if level == "all":
                options.log_severity_level = 3  # the warning that the file is for this CPU only: documented here
            runner(src, provider, options)

        return write_atomic_from(dst, produce)
    except ExportError:
        raise
    except Exception as err:
        raise ExportError(expected("optimize_offline", "a model onnxruntime can optimise and save",
                                   f"{type(err).__name__}: {err}")) from err


def fuse_transformer(src: str | os.PathLike, dst: str | os.PathLike, num_heads: int, hidden_size: int,
                     model_type: str = "vit") -> dict[str, int]:
    """Apply onnxruntime's transformer fusions to an exported ViT and write the result to ``dst`` (atomically).

    Only the pattern fusions run here (``opt_level=0``); onnxruntime's own graph
    optimisations still run when a session opens the file. ``metadata_props`` are kept.

    Returns:
        The count of each fused operator that appears (``{"SkipLayerNormalization": 24, ...}``).

    Raises:
        ExportError: If the optimizer fails.
    """
    import onnx
    from onnxruntime.transformers.optimizer import optimize_model

    from .onnx_io import save_atomic, set_metadata

    try:
        model = optimize_model(os.fspath(src), model_type=model_type, num_heads=num_heads, hidden_size=hidden_size,
                               opt_level=0, use_gpu=False)
    except Exception as err:
        raise ExportError(expected("fuse_transformer", "a transformer graph onnxruntime's optimizer can read",
                                   f"{type(err).__name__}: {err}")) from err
    proto = model.model
    domains = {n.domain for n in proto.graph.node} - {"", "ai.onnx"} - {o.domain for o in proto.opset_import}
    for domain in sorted(domains):  # the fused contrib ops' domain (com.microsoft), which the optimizer leaves out
        proto.opset_import.add(domain=domain, version=1)
    original = onnx.load(os.fspath(src), load_external_data=False)
    set_metadata(proto, {p.key: p.value for p in original.metadata_props})
    save_atomic(proto, dst)
    stats: Mapping[str, int] = model.get_fused_operator_statistics()
    return {k: int(v) for k, v in stats.items() if v}


__all__ = ["LEVELS", "fuse_transformer", "optimize_offline", "session_options"]
