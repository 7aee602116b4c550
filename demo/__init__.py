"""The demo story: seeds every app in order through its public services (make run, seed_demo).

``demo/story.py`` tells it chapter by chapter; ``manage.py seed_demo`` runs it
and ``manage.py runall`` starts everything (with the demo metrics server,
``demo/metrics_server.py``). At the top of the layers: it may import every
app, and no app imports it.
"""
