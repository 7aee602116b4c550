"""``/cli/``: the ``shipcheck`` command's wheel, built from this server's own source.

Public (the wheel holds no secret, and a CI job has no session): the page says
how to install it, ``/cli/<wheel file>`` serves it. Read-only: GET and HEAD.
"""

from __future__ import annotations

import hashlib

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.cli_dist import DIST_NAME, REQUIRES, REQUIRES_PYTHON, served_wheel


@require_safe
def cli_index(request):
    name, data = served_wheel()
    url = request.build_absolute_uri(f"/cli/{name}")
    return render(
        request,
        "core/cli.html",
        {
            "wheel_name": name,
            "wheel_url": url,
            "wheel_sha256": hashlib.sha256(data).hexdigest(),
            "wheel_size": len(data),
            "dist_name": DIST_NAME,
            "requires": REQUIRES,
            "requires_python": REQUIRES_PYTHON,
        },
    )


@require_safe
def cli_wheel(request, filename: str):
    name, data = served_wheel()
    if filename != name:
        raise Http404("No such file: this server offers only its own version of the command.")
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-SHA256"] = hashlib.sha256(data).hexdigest()
    return response
