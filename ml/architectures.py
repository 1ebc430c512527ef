"""Architecture names and their settings, importable without Keras (the CLI lists them)."""
from __future__ import annotations

# name -> (kind, settings). MLPs see flat pixels; CNNs stack conv blocks of (filters, convs per block).
ARCHITECTURES: dict[str, tuple[str, tuple]] = {
    "mlp_small": ("mlp", (256,)),
    "mlp": ("mlp", (512, 256)),
    "mlp_large": ("mlp", (1024, 512, 256)),
    "cnn_tiny": ("cnn", ((8, 1), (16, 1))),
    "cnn_small": ("cnn", ((32, 1), (64, 1), (128, 1))),
    "cnn": ("cnn", ((32, 1), (64, 2), (128, 2), (256, 1))),
    "cnn_deep": ("cnn", ((32, 1), (64, 2), (128, 2), (256, 2))),
    "vgg": ("cnn", ((64, 2), (128, 2), (256, 2), (512, 2))),
}
TRANSFER_APPS = {"mobilenetv2": "MobileNetV2", "mobilenet": "MobileNet", "inceptionv3": "InceptionV3",
                 "resnet50": "ResNet50", "efficientnetb0": "EfficientNetB0"}


def describe() -> list[str]:
    """Every architecture name `ml.models.build` accepts, transfer forms included."""
    return [*ARCHITECTURES, *(f"transfer:{app}" for app in TRANSFER_APPS), "from:<artifact dir>"]
