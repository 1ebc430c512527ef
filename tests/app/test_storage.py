"""The storage interface on both backends: a local folder and S3 on moto's standalone server (real HTTP)."""
import boto3
import pytest

from app.extensions import db
from app.models import Prediction
from app.storage import NotFound, StorageError, from_config
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage
from net_support import free_port


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """Each backend in turn."""
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    return S3Storage(request.getfixturevalue("bucket"), "some/prefix", request.getfixturevalue("moto_url"))


def test_put_get_exists_delete(store):
    store.put("crops/digits/3/1.png", b"one")
    assert store.get("crops/digits/3/1.png") == b"one" and store.exists("crops/digits/3/1.png")
    store.put("crops/digits/3/1.png", b"two")
    assert store.get("crops/digits/3/1.png") == b"two"
    store.delete("crops/digits/3/1.png")
    store.delete("crops/digits/3/1.png")  # missing is fine
    assert not store.exists("crops/digits/3/1.png")
    with pytest.raises(NotFound):
        store.get("crops/digits/3/1.png")


def test_keys_copy_and_move(store):
    for key in ("inbox/digits/1.png", "inbox/digits/2.png", "photos/1.png"):
        store.put(key, key.encode())
    assert list(store.keys("inbox/")) == ["inbox/digits/1.png", "inbox/digits/2.png"]
    store.copy("photos/1.png", "originals/digits/5/1.png")
    store.move("inbox/digits/1.png", "crops/digits/5/1.png")
    store.move("inbox/digits/1.png", "crops/digits/5/1.png")  # repeating a finished move is harmless
    assert list(store.keys()) == ["crops/digits/5/1.png", "inbox/digits/2.png", "originals/digits/5/1.png",
                                  "photos/1.png"]
    assert store.get("crops/digits/5/1.png") == b"inbox/digits/1.png"
    with pytest.raises(NotFound):
        store.move("inbox/digits/9.png", "crops/digits/5/9.png")


@pytest.mark.parametrize("key", ["../escape.png", "/abs.png", "a//b.png", "a/../../b.png", "sp ace.png", ""])
def test_keys_cannot_escape_the_root(store, key):
    with pytest.raises(ValueError):
        store.put(key, b"x")


def test_local_moves_leave_no_empty_class_folders(tmp_path):
    store = LocalStorage(tmp_path)
    store.put("crops/digits/3/1.png", b"x")
    store.move("crops/digits/3/1.png", "crops/digits/4/1.png")
    assert not (tmp_path / "crops/digits/3").exists() and (tmp_path / "crops/digits/4/1.png").is_file()


def test_s3_prefix_keeps_keys_apart(bucket, moto_url):
    S3Storage(bucket, "a", moto_url).put("x.png", b"a")
    S3Storage(bucket, "b/", moto_url).put("x.png", b"b")
    assert S3Storage(bucket, "a", moto_url).get("x.png") == b"a"
    objects = boto3.client("s3", endpoint_url=moto_url).list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(o["Key"] for o in objects) == ["a/x.png", "b/x.png"]


def test_s3_unreachable_is_a_storage_error(aws_env):
    store = S3Storage("bucket", "", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StorageError):
        store.put("x.png", b"x")


def test_backend_is_chosen_from_config(tmp_path, aws_env):
    assert isinstance(from_config({"STORAGE_DIR": str(tmp_path)}), LocalStorage)
    s3 = from_config({"S3_BUCKET": "b", "S3_PREFIX": "p", "S3_ENDPOINT_URL": "http://127.0.0.1:9", "STORAGE_DIR": "x"})
    assert isinstance(s3, S3Storage) and (s3.bucket, s3.prefix) == ("b", "p/")


@pytest.fixture
def on_s3(app_settings, bucket, moto_url):
    app_settings.update(S3_BUCKET=bucket, S3_PREFIX="visionloop", S3_ENDPOINT_URL=moto_url)
    client = boto3.client("s3", endpoint_url=moto_url)
    return lambda: sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])
                          if not o["Key"].startswith("visionloop/models/"))  # the registry's copies


def test_the_app_keeps_photos_and_class_folders_on_s3(on_s3, login, upload, plain_png, app, bucket, moto_url):
    client = login()
    response = upload(plain_png, ["digits"])
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.location
    crop, photo = on_s3()
    assert crop.startswith("visionloop/inbox/digits/") and photo.startswith("visionloop/photos/")
    s3 = boto3.client("s3", endpoint_url=moto_url)
    assert [s3.head_object(Bucket=bucket, Key=key)["ContentType"] for key in (crop, photo)] == ["image/png",
                                                                                                "image/jpeg"]
    assert client.get("/detections/1/crop").mimetype == "image/png"
    assert client.get(location + "/photo").mimetype == "image/jpeg"
    client.post("/detections/1/feedback", data={"label": "6"})
    assert on_s3() == ["visionloop/crops/digits/6/1.png", "visionloop/originals/digits/6/1.jpg", photo]
    client.post(location + "/delete")
    assert on_s3() == []


def test_upload_with_storage_down_keeps_nothing(app, login, upload, plain_png, token_for, aws_env):
    login()
    upload(plain_png, ["digits"])  # the model is loaded while storage still works
    app.extensions["storage"] = S3Storage("missing", "", f"http://127.0.0.1:{free_port()}")
    page = upload(plain_png, ["digits"])
    assert page.status_code == 200 and "Storage is unavailable" in page.get_data(as_text=True)
    api = upload(plain_png, ["digits"], api=token_for())
    assert api.status_code == 503 and "Storage is unavailable" in api.get_json()["error"]
    with app.app_context():
        assert db.session.query(Prediction).count() == 1
