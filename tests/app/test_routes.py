"""No route answers 500, whoever asks and whatever they send."""
import pytest

JUNK = {"label": "\u202e<script>", "image": "not a file", "recognizers": "emotion7,../etc", "page": "-1",
        "latitude": "north", "detection": "x", "next": "//evil.example"}


def _urls(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for ids in (1, 999999):
            url = rule.rule
            for arg in rule.arguments:
                url = url.replace(f"<int:{arg}>", str(ids)).replace(f"<{arg}>", "junk")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, url


@pytest.mark.parametrize("who", ["anonymous", "owner", "someone else"])
def test_no_route_answers_500(who, app, client, login, upload, plain_png):
    if who != "anonymous":
        login("owner@example.com")
        upload(plain_png, ["digits"])
        if who == "someone else":
            client.post("/logout")
            login("other@example.com")
    failures = []
    for method, url in sorted(set(_urls(app))):
        for kwargs in ({}, {"data": JUNK}, {"json": ["junk"]}, {"query_string": JUNK}):
            response = client.open(url, method=method, **kwargs)
            if response.status_code >= 500:
                failures.append((method, url, kwargs, response.status_code))
    assert failures == []


def test_pages_refuse_json_bodies(client):
    response = client.post("/classify", json={"recognizers": "digits"})
    assert response.status_code == 415 and "takes form posts" in response.get_data(as_text=True)
