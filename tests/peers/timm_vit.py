"""Run timm's VisionTransformer in the optional peer venv (.venv-peers); used by test_vit_timm_peer.py.

Usage: python timm_vit.py CONFIG.json X.npy OUT.npy [--save-state-dict SD.pth] [--load-npz W.npz]
CONFIG has img_size, patch_size, embed_dim, depth, num_heads, mlp_ratio, num_classes, class_token, global_pool.
"""

import json
import sys

import numpy as np
import torch
from timm.models.vision_transformer import VisionTransformer, _load_weights

cfg = json.load(open(sys.argv[1]))
torch.manual_seed(0)
model = VisionTransformer(**cfg).double().eval()
with torch.no_grad():
    for p in model.parameters():  # timm zero-initialises some tensors; make every one matter
        p.add_(0.1 * torch.randn_like(p))
args = sys.argv[4:]
if "--load-npz" in args:
    _load_weights(model.float(), args[args.index("--load-npz") + 1])
    model = model.double()
if "--save-state-dict" in args:
    torch.save(model.state_dict(), args[args.index("--save-state-dict") + 1])
x = torch.from_numpy(np.load(sys.argv[2]))
with torch.no_grad():
    np.save(sys.argv[3], model(x).numpy())
