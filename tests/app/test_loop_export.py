"""Export of the labelled dataset (zip of class folders plus manifest.csv) and deleting all of one's data."""
import csv
import io
import zipfile

import numpy as np

from app.extensions import db
from app.models import Prediction
from app.services import accounts
from loop_support import add_labelled, pattern_image


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200 and response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_user_exports_own_labelled_crops_in_class_folders(app, client, login):
    rng = np.random.default_rng(0)
    login("ada@example.com")
    with app.app_context():
        mine = add_labelled([pattern_image(rng) for _ in range(2)], "4", email="ada@example.com", predicted="1")
        add_labelled([pattern_image(rng)], "5", email="other@example.com")
    archive = _zip(client.get("/data/export.zip"))
    assert sorted(archive.namelist()) == sorted([f"digits/4/{i}.png" for i in mine] + ["manifest.csv"])
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert [r["path"] for r in rows] == [f"digits/4/{i}.png" for i in mine]
    assert {(r["label"], r["predicted_label"], r["status"]) for r in rows} == {("4", "1", "corrected")}
    assert archive.read(rows[0]["path"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert _zip(client.get("/data/export.zip?recognizer=emotion7")).namelist() == ["manifest.csv"]
    assert client.get("/data/export.zip?recognizer=nope").status_code == 404
    assert client.get("/data/all.zip").status_code == 403
    assert "data-test=\"export-digits\"" in client.get("/data").get_data(as_text=True)


def test_admin_exports_everyone(app, client, login):
    rng = np.random.default_rng(1)
    with app.app_context():
        accounts.create_user("root@example.com", "correct horse", is_admin=True)
        add_labelled([pattern_image(rng)], "4", email="a@example.com")
        add_labelled([pattern_image(rng)], "5", email="b@example.com")
    login("root@example.com")
    names = _zip(client.get("/data/all.zip?recognizer=digits")).namelist()
    assert len([n for n in names if n.endswith(".png")]) == 2


def test_delete_all_my_data_removes_records_and_images(app, client, login, stored):
    rng = np.random.default_rng(2)
    login("ada@example.com")
    with app.app_context():
        add_labelled([pattern_image(rng) for _ in range(3)], "4", email="ada@example.com")
        add_labelled([pattern_image(rng)], "5", email="other@example.com")
    refused = client.post("/data/delete", follow_redirects=True)
    assert "Tick the box" in refused.get_data(as_text=True) and len(stored()) == 4
    done = client.post("/data/delete", data={"confirm": "y"}, follow_redirects=True)
    assert "Deleted 3 photos" in done.get_data(as_text=True)
    with app.app_context():
        owners = {p.user.email for p in db.session.query(Prediction)}
    assert owners == {"other@example.com"}
    assert len(stored()) == 1 and stored()[0].startswith("crops/digits/5/")
