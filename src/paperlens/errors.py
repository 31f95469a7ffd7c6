"""The paperlens exception tree.

Every error a user can meet is a ``PaperlensError`` whose message names the
thing, the place and what to do. The CLI turns them into one line on stderr
and an exit code; the web app into a 4xx with the same text::

    PaperlensError
     ├── ConfigError        a setting is missing or invalid
     ├── UnreadableInput    a whole input cannot be read (not UTF-8, empty, binary)
     ├── UnknownFormat      no source recognised the input
     ├── InvalidQuery       a search query cannot be understood
     ├── NotFound           no paper/author/list with that id
     ├── ModelUnavailable   the embedding model cannot be loaded
     └── StoreError         the database refused an operation
"""

from __future__ import annotations


class PaperlensError(Exception):
    """Root of every error paperlens raises on purpose."""


class ConfigError(PaperlensError):
    """A setting is missing or has a value paperlens cannot use."""


class UnreadableInput(PaperlensError):
    """A whole input is unusable: empty, binary or not UTF-8."""


class UnknownFormat(PaperlensError):
    """No source format recognised the input; the message lists those tried."""


class InvalidQuery(PaperlensError):
    """A search query cannot be turned into a safe index query."""


class NotFound(PaperlensError):
    """The requested paper, author, list or subscription does not exist."""


class ModelUnavailable(PaperlensError):
    """The embedding model cannot be loaded; the message says what to install."""


class StoreError(PaperlensError):
    """The store refused an operation (schema too new, corrupt file, ...)."""
