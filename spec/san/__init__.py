"""SAN: pairwise and patchwise self-attention networks for image recognition.

The operator (``SAM``) is specified in :mod:`.ops`, the SAN10/15/19 networks in :mod:`.nets`.

Paper: H. Zhao, J. Jia, V. Koltun, "Exploring Self-attention for Image
Recognition", CVPR 2020. Official code: https://github.com/hszhao/SAN (MIT;
CUDA/CuPy kernels only: a CPU tensor raises ``NotImplementedError`` there and
there is no ONNX path). tenfold runs the same math in NumPy, PyTorch (CPU and
CUDA, no custom kernels), TensorFlow and onnxruntime.

The operator's names are re-exported here (``tenfold.spec.san.SAMConfig``);
the networks live in ``tenfold.spec.san.nets`` (``SANConfig``, ``param_shapes``).
"""

from ..contracts import Tolerances
from ..tolerance import Tolerance
from . import nets, ops
from .nets import PRESETS, SANConfig, param_shapes
from .ops import *  # noqa: F403
from .ops import __all__ as _ops_all

PAPER = "Zhao, Jia, Koltun, Exploring Self-attention for Image Recognition, CVPR 2020"
OFFICIAL_CODE = "https://github.com/hszhao/SAN"

#: The operator (SAM): unit-scale inputs, softmax weights or unnormalised patchwise weights of O(1).
TOLERANCES = Tolerances(
    forward={"float64": Tolerance(atol=1e-11, rtol=1e-10), "float32": Tolerance(atol=5e-5, rtol=5e-5)},
    gradient={"float64": Tolerance(atol=1e-10, rtol=1e-9), "float32": Tolerance(atol=5e-4, rtol=5e-4)},
    finite_difference=Tolerance(atol=1e-7, rtol=1e-6),
    onnx={"float32": Tolerance(atol=1e-4, rtol=1e-4)},
)

#: Whole networks: logits after up to ~20 blocks with BatchNorm in eval or train mode.
NET_TOLERANCES = Tolerances(
    forward={"float64": Tolerance(atol=1e-9, rtol=1e-8), "float32": Tolerance(atol=3e-4, rtol=3e-4)},
    gradient={"float64": Tolerance(atol=1e-8, rtol=1e-7), "float32": Tolerance(atol=2e-3, rtol=2e-3)},
    finite_difference=Tolerance(atol=1e-6, rtol=1e-5),
    onnx={"float32": Tolerance(atol=3e-4, rtol=3e-4)},
)

#: The public names each layer must export for this method (checked by conformance).
EXPORTS: dict[str, tuple[str, ...]] = {
    "numpy_ref": ("sam", "aggregation", "relation", "position_map", "forward", "init_params"),
    "torch_backend": ("SAM", "SAN", "build", "load_params", "get_params", "load_checkpoint", "aggregation"),
    "tf_backend": ("SAM", "SAN", "build", "load_params", "get_params", "aggregation"),
    "export": ("NAMES", "export_san", "onnx_model_torch", "onnx_model_tf", "verify"),
}

__all__ = ["EXPORTS", "NET_TOLERANCES", "OFFICIAL_CODE", "PAPER", "PRESETS", "TOLERANCES", "SANConfig", "nets", "ops",
           "param_shapes", *_ops_all]
