"""YuNet on LiteRT instead of ONNX Runtime: the network rebuilt in Keras from the ONNX file's weights, node by node,
exported float32 with ml.artifact.export_lite, then checked, timed and weighed against the shipped ONNX Runtime path.

Prints the largest difference between the two runtimes' raw outputs on the faces_real photos, whether every face
(box, score, landmarks) and `python -m ml evaluate faces`' figures agree, the CPU of a 640×480 search on each
(alternating, one thread), and the resident memory each adds to a fresh process that already serves emotion7 on
LiteRT, as a web worker does. The LiteRT model takes NHWC RGB (the BGR order folded into the first convolution)
and returns the twelve heads as NHWC maps. Needs the `onnx` package and TensorFlow (neither is needed to serve).

  .venv/bin/python scripts/bench_yunet_litert.py [--photos ../shared/datasets/faces_real] [--repeats 300]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: import ml/ from the repository

from ml.face_eval import evaluate_faces, face_sets, read_set  # noqa: E402
from ml.faces import MODEL, OUTPUTS, FaceDetector, opencv  # noqa: E402
from ml.preprocess import open_image  # noqa: E402
from scripts.bench_server import rss_mb  # noqa: E402
from scripts.live_video import frames, headshot  # noqa: E402


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", default=str(ROOT.parent / "shared" / "datasets" / "faces_real"))
    parser.add_argument("--repeats", type=int, default=300, help="timed searches per runtime and photo")
    parser.add_argument("--rss", choices=("onnxruntime", "litert"), help=argparse.SUPPRESS)  # the child's part
    parser.add_argument("--model", help=argparse.SUPPRESS)
    return parser.parse_args()


def attributes(node) -> dict:
    """An ONNX node's attributes as Python values."""
    import onnx  # noqa: PLC0415

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def conv(keras, x, node, weights: dict, rgb_input: bool):
    """The ONNX convolution as a Keras one (plain or depthwise) with its weights and padding."""
    w, b = (weights[name] for name in node.input[1:3])
    att = attributes(node)
    out_channels, in_per_group, kh, kw = w.shape
    stride, groups = att["strides"][0], att.get("group", 1)
    if set(att["pads"]) != {kh // 2} or kh != kw or att["strides"][1] != stride:
        raise ValueError(f"{node.name}: padding {att['pads']} for a {kh}×{kw} kernel is not handled")
    if rgb_input:
        w = w[:, ::-1]  # the network was trained on BGR; this model takes RGB
    padding = "same"  # a k×k kernel, k // 2 on every side: what "same" pads at stride 1
    if stride != 1:  # "same" at stride 2 pads only after; ONNX pads both sides
        x, padding = keras.layers.ZeroPadding2D(kh // 2)(x), "valid"
    if groups == 1:
        layer, kernel = keras.layers.Conv2D(out_channels, kh, strides=stride, padding=padding), w.transpose(2, 3, 1, 0)
    elif groups == out_channels and in_per_group == 1:
        layer, kernel = keras.layers.DepthwiseConv2D(kh, strides=stride, padding=padding), w.transpose(2, 3, 0, 1)
    else:
        raise ValueError(f"{node.name}: {groups} groups of {in_per_group} channels are not handled")
    y = layer(x)
    layer.set_weights([kernel, b])
    return y


def upsample(x):
    """Nearest ×2 (ONNX's asymmetric floor mode) as four copies of the channels put in 2×2 blocks: ops XNNPACK runs
    at any input size, where Keras' UpSampling2D becomes shape arithmetic it leaves to slower kernels."""
    import tensorflow as tf  # noqa: PLC0415

    return tf.nn.depth_to_space(tf.concat([x] * 4, axis=-1), 2)


def keras_model(source: Path):
    """YuNet in Keras: every ONNX node as the layer that computes the same, NHWC; outputs in OUTPUTS order."""
    import keras  # noqa: PLC0415
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(source)).graph
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    tensors = {graph.input[0].name: keras.Input((None, None, 3), name="input")}
    for node in graph.node:
        x, att = tensors[node.input[0]], attributes(node)
        if node.op_type == "Conv":
            y = conv(keras, x, node, weights, rgb_input=node.input[0] == graph.input[0].name)
        elif node.op_type in ("Relu", "Sigmoid"):
            y = keras.layers.Activation(node.op_type.lower())(x)
        elif node.op_type == "MaxPool" and att["kernel_shape"] == att["strides"] == [2, 2] and not any(att["pads"]):
            y = keras.layers.MaxPooling2D(2)(x)
        elif node.op_type == "Resize" and (att["mode"], att["coordinate_transformation_mode"]) == (
                b"nearest", b"asymmetric") and list(weights[node.input[2]]) == [1, 1, 2, 2]:
            y = keras.layers.Lambda(upsample)(x)
        elif node.op_type == "Add":
            y = keras.layers.Add()([x, tensors[node.input[1]]])
        elif node.op_type in ("Transpose", "Reshape"):
            y = x  # NCHW to (1, H·W, C): an NHWC map is that already, once flattened
        else:
            raise ValueError(f"{node.name}: {node.op_type} {att} is not handled")
        tensors[node.output[0]] = y
    return keras.Model(tensors[graph.input[0].name], [tensors[name] for name in OUTPUTS])


class LiteInterpreter:
    """The exported model on LiteRT, one thread, resized when the input size changes."""

    def __init__(self, path: str):
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415

        self._interpreter = Interpreter(model_path=path, num_threads=1)
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = self._interpreter.get_signature_runner().get_output_details()
        self._outputs = [outputs[f"output_{i}"]["index"] for i in range(len(OUTPUTS))]
        self._shape = None

    def run(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        """The raw outputs, in ONNX Runtime's layout, for an H×W×3 array at the search size."""
        height, width = rgb.shape[:2]
        padded = np.zeros((1, -(-height // 32) * 32, -(-width // 32) * 32, 3), np.float32)
        padded[0, :height, :width] = rgb
        if padded.shape != self._shape:
            self._interpreter.resize_tensor_input(self._input, padded.shape)
            self._interpreter.allocate_tensors()
            self._shape = padded.shape
        self._interpreter.set_tensor(self._input, padded)
        self._interpreter.invoke()
        maps = (self._interpreter.get_tensor(i) for i in self._outputs)
        return {name: m.reshape(1, -1, m.shape[-1]) for name, m in zip(OUTPUTS, maps)}


class LiteDetector(FaceDetector):
    """The shipped detector with the network run by LiteRT: the same resizing, decoding and NMS."""

    def __init__(self, path: str):
        super().__init__()
        self._lite = LiteInterpreter(path)

    def outputs(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        """The raw outputs from LiteRT."""
        return self._lite.run(rgb)


def child_rss(runtime: str, model: str) -> dict:
    """In this fresh process: emotion7 served as a worker does, then the face network on `runtime`; the MB each
    step added."""
    from ml.serving import Classifier  # noqa: PLC0415

    Classifier(ROOT / "ml" / "artifacts" / "emotion7").probabilities(np.zeros((2, 48, 48, 1), np.uint8))
    opencv()  # loaded in every worker too
    rgb = np.zeros((480, 640, 3), np.uint8)
    steps = {"before": rss_mb(os.getpid())}
    if runtime == "onnxruntime":
        import onnxruntime  # noqa: PLC0415, F401

        steps["library"] = rss_mb(os.getpid())
        detector = FaceDetector()
        steps["session"] = rss_mb(os.getpid())
        run = detector.outputs
    else:
        lite = LiteInterpreter(model)
        steps["session"] = rss_mb(os.getpid())
        run = lite.run
    for _ in range(3):
        run(rgb)
    steps["after 640×480 searches"] = rss_mb(os.getpid())
    steps["TensorFlow loaded"] = "tensorflow" in sys.modules  # must stay False: serving never imports it
    return steps


def rss(runtime: str, model: str) -> dict:
    """child_rss in a fresh Python process."""
    done = subprocess.run([sys.executable, __file__, "--rss", runtime, "--model", model], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(photos: Path, ort: FaceDetector, lite: LiteDetector) -> tuple[float, int, int]:
    """Over every photo: the largest raw-output difference, photos whose faces differ, photos."""
    worst, differ, count = 0.0, 0, 0
    for folder in face_sets(photos):
        for path, _ in read_set(folder):
            rgb = np.asarray(open_image(path).convert("RGB"))
            a, b = ort.outputs(rgb), lite.outputs(rgb)
            worst = max(worst, *(float(np.abs(a[k] - b[k]).max()) for k in OUTPUTS))
            differ += ort.search(rgb) != lite.search(rgb)
            count += 1
    return worst, differ, count


def cpu_ms(detectors: dict, photo: np.ndarray, repeats: int) -> dict[str, float]:
    """Median CPU ms of one search per detector, the detectors taking turns."""
    times = {name: [] for name in detectors}
    for _ in range(repeats + 5):
        for name, detector in detectors.items():
            started = time.process_time()
            detector.search(photo)
            times[name].append(time.process_time() - started)
    return {name: float(np.median(t[5:]) * 1000) for name, t in times.items()}


def main() -> None:
    """Build, check, time and weigh; print one report."""
    args = parse_args()
    if args.rss:
        print(json.dumps(child_rss(args.rss, args.model)))
        return
    from ml.artifact import export_lite  # noqa: PLC0415 - imports TensorFlow

    with tempfile.TemporaryDirectory(prefix="yunet-litert-") as work:
        model = str(Path(work) / "yunet.tflite")
        with contextlib.redirect_stderr(io.StringIO()):
            export_lite(keras_model(MODEL), Path(model), quantize=False)  # float: the same faces, not nearly
        ort, lite = FaceDetector(), LiteDetector(model)
        worst, differ, count = compare(Path(args.photos), ort, lite)
        same_eval = _same_but_time(evaluate_faces(args.photos, ort), evaluate_faces(args.photos, lite))
        timing = {name: cpu_ms({"onnxruntime": ort, "litert": lite}, np.asarray(image.convert("RGB")), args.repeats)
                  for name, image in (("portrait", next(frames(1, faces=1))), ("headshot", headshot()))}
        memory = {runtime: rss(runtime, model) for runtime in ("onnxruntime", "litert")}
        size = Path(model).stat().st_size
    print(f"YuNet on LiteRT (float32, {size:,} bytes) against ONNX Runtime, {len(os.sched_getaffinity(0))} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"  {count} faces_real photos: largest raw-output difference {worst:.1e}, photos whose faces differ "
          f"{differ}; evaluate faces figures the same: {same_eval}")
    for name, ms in timing.items():
        print(f"  640×480 search, {name:<9} ONNX Runtime {ms['onnxruntime']:5.2f} ms, LiteRT {ms['litert']:5.2f} ms "
              f"CPU (median, alternating)")
    for runtime, steps in memory.items():
        base, tensorflow = steps.pop("before"), steps.pop("TensorFlow loaded")
        print(f"  RSS added to a process serving emotion7 ({base:.0f} MB), {runtime:<11} "
              + ", ".join(f"{step} +{mb - base:.1f}" for step, mb in steps.items())
              + f" MB{' (TensorFlow was loaded: not a serving process)' if tensorflow else ''}")


def _same_but_time(a: dict, b: dict) -> bool:
    """Whether two evaluate_faces reports agree on everything but the time per photo."""
    def counts(report):
        if isinstance(report, dict):
            return {k: counts(v) for k, v in report.items() if not k.startswith("ms_")}
        return report

    return counts(a) == counts(b)


if __name__ == "__main__":
    main()
