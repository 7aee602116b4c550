"""What a person may not see answers the product's 404 page, with DEBUG on as well.

With DEBUG on (``make run``) Django's own 404 page lists every URL pattern of the site; a
person outside a project must get the product's page, with the same words whether the object
exists elsewhere or not at all.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from checklists.models import ItemTemplate, StepTemplate
from tests.checklists.helpers import client_for, small_template_create


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def _is_product_404(response) -> str:
    body = response.content.decode()
    assert response.status_code == 404
    assert "Nothing here" in body
    assert "URLconf" not in body and "DEBUG = True" not in body
    return body


def test_unknown_address__product_404_page_without_the_url_list(debug, people):
    _is_product_404(client_for(people.alice).get("/no/such/page/"))


def test_outsider__project_page__product_404_page(debug, people, release):
    response = client_for(people.olga).get(release.get_absolute_url())

    body = _is_product_404(response)
    assert release.version not in body


def test_template_step__another_projects_and_missing__same_message(debug, project, people):
    template = small_template_create(project=project, admin=people.adam)
    step = StepTemplate.objects.filter(version__template=template).first()
    item = ItemTemplate.objects.filter(step__version__template=template).first()
    outsider = client_for(people.olga)  # admin of another project

    for kind, pk, missing_pk in (
        ("step", step.pk, StepTemplate.objects.order_by("-pk").first().pk + 100),
        ("item", item.pk, ItemTemplate.objects.order_by("-pk").first().pk + 100),
    ):
        name = f"checklists:template_{kind}_action"
        elsewhere = outsider.post(reverse(name, args=[pk, "up"]))
        missing = outsider.post(reverse(name, args=[missing_pk, "up"]))

        assert _is_product_404(elsewhere).count(f"No such {kind}.") == 1
        assert _is_product_404(missing).count(f"No such {kind}.") == 1
        assert "checklist template" not in elsewhere.content.decode()
