"""Read-only pages refuse writes with 405 instead of answering them like a GET."""

import pytest


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_read_only_pages__refuse_writes_with_405(client, people, project, release, method):
    client.force_login(people.aud)
    urls = [
        "/",
        "/releases/",
        f"/releases/{release.pk}/",
        "/projects/",
        f"/projects/{project.slug}/",
        "/notifications/",
        "/approvals/inbox/",
        "/monitoring/",
        "/healthz",
        "/readyz",
    ]
    answers = {url: getattr(client, method)(url).status_code for url in urls}
    assert answers == dict.fromkeys(urls, 405)


def test_read_only_pages__still_answer_get(client, people, release):
    client.force_login(people.aud)
    for url in ("/", "/releases/", f"/releases/{release.pk}/", "/approvals/inbox/", "/monitoring/"):
        assert client.get(url).status_code == 200, url
