import os
from pathlib import Path

from celery import Celery

import core.broker  # noqa: F401 - registers the embedded:// broker (kombu filesystem, made safe)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shipcheck")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The embedded (filesystem) broker needs its folders before the first message.
for key in ("data_folder_in", "processed_folder", "control_folder"):
    folder = (app.conf.broker_transport_options or {}).get(key)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
