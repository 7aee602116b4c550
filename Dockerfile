# Shipcheck for production: one image, three roles (web, worker, scheduler); see docker-compose.yml.
# Python 3.13: supported by Django 5.2 and by the next LTS, 6.2 (which needs 3.12 or later).
FROM python:3.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    SHIPCHECK_VAR_DIR=/var/lib/shipcheck \
    PROMETHEUS_MULTIPROC_DIR=/tmp/shipcheck-metrics \
    PYTHONPATH=/app

WORKDIR /app

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin shipcheck \
    && mkdir -p /var/lib/shipcheck \
    && chown shipcheck /var/lib/shipcheck

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p config && touch config/__init__.py \
    && pip install . \
    && pip uninstall -y shipcheck \
    && rm -rf config build *.egg-info

# Editable, so every process imports the code in /app, next to templates/ and static/.
COPY . .
RUN pip install --no-deps -e . \
    && python manage.py collectstatic --noinput -v0 \
    && chown -R shipcheck /var/lib/shipcheck

USER shipcheck
EXPOSE 8000

# The web role (threaded workers, timeouts for streaming exports: config/gunicorn.py);
# docker-compose.yml overrides the command for the worker and the scheduler.
CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn.py"]
