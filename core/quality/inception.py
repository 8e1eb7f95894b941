"""InceptionV3 pool features (2048) for ``quality.features = "inception"``, from weights on
disk only (nothing is downloaded: with no network torchvision's download would fail anyway).

The weights are a state dict for ``torchvision.models.inception_v3`` (aux_logits=True), e.g.
torchvision's ImageNet file ``inception_v3_google-0cc3c7bd.pth``: either the path in
``quality.inception_weights`` or that file in the torch hub cache
(``<torch.hub.get_dir()>/checkpoints/``). Images in [-1, 1] are brought to [0, 1], repeated to
three channels when gray, resized to 299x299 (bilinear) and normalised as torchvision's weights
expect (``transform_input``); the features are the average-pooled output before the
classifier.

Published FID tables (e.g. SN-GAN's CIFAR-10 figures) use the TensorFlow FID Inception
graph; torchvision's ImageNet weights are a different training of the same architecture, so
their FD is on the same scale but not the same number.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..data import DatasetError

TORCHVISION_FILE = "inception_v3_google-0cc3c7bd.pth"
INPUT_SIZE = 299


def default_weights_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_FILE


class InceptionFeatures(nn.Module):
    num_features = 2048

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        self.net.fc = nn.Identity()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = (x + 1) / 2
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        return self.net(x)

    forward = features


def inception_features(weights: str = "") -> InceptionFeatures:
    """The feature network, in eval mode; ``DatasetError`` (one line saying where to put the
    file) when the weights are not on disk or do not fit."""
    from torchvision.models import inception_v3

    path = Path(weights).expanduser() if weights.strip() else default_weights_path()
    if not path.is_file():
        raise DatasetError(f"InceptionV3 weights not found at {path}: put torchvision's "
                           f"{TORCHVISION_FILE} there (or in {default_weights_path().parent}), "
                           f"or set quality.inception_weights to a state dict file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        net = inception_v3(weights=None, aux_logits=True, init_weights=False,
                           transform_input=True)
        net.load_state_dict(state)
    except Exception as exc:
        raise DatasetError(f"cannot load InceptionV3 weights from {path} "
                           f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None
    return InceptionFeatures(net).eval()
