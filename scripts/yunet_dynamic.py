"""Write ml/yunet's model with a free input height and width, so ONNX Runtime runs it at each photo's own size.

YuNet as released takes a fixed 1×3×640×640 input (OpenCV's FaceDetectorYN ignores that; ONNX Runtime enforces
it). Only the declared shapes change: every node and weight is kept byte for byte. Needs the `onnx` package
(`pip install onnx`; not needed to serve). Usage: python scripts/yunet_dynamic.py SOURCE.onnx OUT.onnx
"""
import sys

import onnx


def main(source: str, out: str) -> None:
    model = onnx.load(source)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    for dim, name in ((dims[2], "height"), (dims[3], "width")):
        dim.ClearField("dim_value")
        dim.dim_param = name
    # Shapes recorded for the 640×640 input would contradict other sizes: let the runtime infer them.
    del model.graph.value_info[:]
    for output in model.graph.output:
        for dim in output.type.tensor_type.shape.dim:
            dim.ClearField("dim_value")
            dim.dim_param = "n"
    onnx.checker.check_model(model)
    onnx.save(model, out)


if __name__ == "__main__":
    main(*sys.argv[1:3])
