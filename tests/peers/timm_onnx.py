"""Export a timm VisionTransformer with plain ``torch.onnx.export`` in the peer venv (.venv-peers).

Used by test_export_verify_peer.py. Usage: python timm_onnx.py CONFIG.json OUT.onnx STATE_DICT.pth SCALE
CONFIG holds VisionTransformer keyword arguments. Every parameter gets ``SCALE * N(0, 1)`` added (timm
zero-initialises some), the state dict is saved with ``torch.save``, and the model is exported the way a
user would: the TorchScript exporter (``dynamo=False``), a dynamic batch via ``dynamic_axes``, opset 17.
"""

import json
import sys
import warnings

import torch
from timm.models.vision_transformer import VisionTransformer

cfg = json.load(open(sys.argv[1]))
torch.manual_seed(0)
model = VisionTransformer(**cfg).eval()
with torch.no_grad():
    for p in model.parameters():
        p.add_(float(sys.argv[4]) * torch.randn_like(p))
torch.save(model.state_dict(), sys.argv[3])
x = torch.randn(2, 3, cfg["img_size"], cfg["img_size"])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    torch.onnx.export(model, (x,), sys.argv[2], dynamo=False, input_names=["pixel_values"], output_names=["logits"],
                      dynamic_axes={"pixel_values": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17)
print("exported")
