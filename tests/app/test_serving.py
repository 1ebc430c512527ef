"""Model serving in web processes: loaded once per process and path, versioned, and free of TensorFlow."""
import json
import shutil
import subprocess
import sys

import pytest

from app import serving
from app.config import ROOT
from ml.artifact import ArtifactError

WEB_REQUEST = """
import io, json, sys
from app import create_app
app = create_app(json.loads(sys.argv[1]))
client = app.test_client()
photo = open(sys.argv[2], "rb").read()
response = client.post("/classify", data={"image": (io.BytesIO(photo), "face.jpg"),
                                          "recognizers": ["emotion7", "emotion4", "digits"]})
assert response.status_code == 200, response.status_code
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras"))))
"""


def test_a_web_process_classifies_without_importing_tensorflow(app, app_settings, face_jpeg, tmp_path):
    # `app` only for its clean-up: the child process registers the baselines in the shared test database.
    photo = tmp_path / "face.jpg"
    photo.write_bytes(face_jpeg)
    result = subprocess.run([sys.executable, "-c", WEB_REQUEST, json.dumps(app_settings), str(photo)],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_load_once_per_artifact_with_a_stable_version(artifacts, tmp_path):
    copy = tmp_path / "digits"
    shutil.copytree(artifacts / "digits", copy)
    first = serving.load(artifacts / "digits")
    assert serving.load(artifacts / "digits") is first
    assert len(first.version) == 12 and serving.load(copy).version == first.version  # same bytes, same version
    assert serving.load(copy) is not first


def test_a_rewritten_artifact_is_loaded_again(artifacts, tmp_path):
    copy = tmp_path / "digits"
    shutil.copytree(artifacts / "digits", copy)
    before = serving.load(copy)
    shutil.copy(artifacts / "emotion4" / "model.tflite", copy / "model.tflite")
    shutil.copy(artifacts / "emotion4" / "metadata.json", copy / "metadata.json")
    after = serving.load(copy)
    assert after is not before and after.classifier.recognizer.name == "emotion4"


@pytest.mark.parametrize("damage", ["missing dir", "missing model", "corrupt model"])
def test_broken_artifacts_raise_artifact_error(artifacts, tmp_path, damage):
    copy = tmp_path / "digits"
    if damage != "missing dir":
        shutil.copytree(artifacts / "digits", copy)
    if damage == "missing model":
        (copy / "model.tflite").unlink()
    if damage == "corrupt model":
        (copy / "model.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(ArtifactError):
        serving.load(copy)
