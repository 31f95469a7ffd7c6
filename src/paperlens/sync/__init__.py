"""Live sources: keep the store current from arXiv, Hugging Face and Semantic Scholar.

Each module is one sync and one job: ``arxiv`` (API paging), ``oai``
(OAI-PMH harvesting), ``hf`` (Daily Papers with re-polling), ``enrich``
(Semantic Scholar), ``add`` (single papers and the web submissions queue),
``reparse`` (the raw-response cache through fixed parsers). They share
``pages`` (fetch → parse → store the page and its cursor in one transaction)
and ``sources/fetch.py`` (one polite HTTP client). ``jobs`` gives them to
``paperlens worker``; ``cli/sync.py`` to the command line.
"""
