"""The JSON API (``routes.py``, ``/api/v1``) and feeds (``feeds.py``), mounted by ``web/app.py``."""
