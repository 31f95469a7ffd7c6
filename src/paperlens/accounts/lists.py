"""Reading lists, a note and a read mark per paper, and "not interested".

Every change checks that the list belongs to the user; a list that is not
theirs raises ``NotFound``, the same as a missing one, so private lists
cannot be discovered by probing. Public lists are readable by anyone with
the link (their slug is random, not a counter).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paperlens.accounts import AccountError
from paperlens.errors import NotFound
from paperlens.model import Paper
from paperlens.store.accounts import AccountStore, ListItemRow, ListRow

if TYPE_CHECKING:
    from paperlens.services import Services

MAX_NAME = 100
MAX_NOTE = 4000
MAX_LISTS = 200


@dataclass(slots=True)
class ListEntry:
    """A paper in a list with the owner's note and read mark."""

    paper: Paper
    key: int
    note: str
    read: bool
    added_at: str


def _name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise AccountError("Give the list a name.")
    if len(name) > MAX_NAME:
        raise AccountError(f"List names can be at most {MAX_NAME} characters.")
    return name


def create_list(services: Services, user_id: int, name: str, *, public: bool = False) -> ListRow:
    accounts = AccountStore(services.store)
    name = _name(name)
    with accounts.transaction():
        if len(accounts.lists_of(user_id)) >= MAX_LISTS:
            raise AccountError(f"You have {MAX_LISTS} lists, the most allowed; delete one first.")
        slug = secrets.token_urlsafe(9)
        accounts.add_list(slug, user_id, name, public, services.clock())
    row = accounts.list_by_slug(slug)
    assert row is not None
    return row


def get_list(services: Services, slug: str, *, viewer: int | None) -> ListRow:
    """A list the viewer may see: their own, or anyone's public one."""
    row = AccountStore(services.store).list_by_slug(slug) if len(slug) <= 64 else None
    if row is None or (not row.public and row.user_id != viewer):
        raise NotFound(f"No reading list {slug!r} (it may be private).")
    return row


def own_list(services: Services, slug: str, user_id: int) -> ListRow:
    row = AccountStore(services.store).list_by_slug(slug) if len(slug) <= 64 else None
    if row is None or row.user_id != user_id:
        raise NotFound(f"No reading list {slug!r} of yours.")
    return row


def lists_of(services: Services, user_id: int) -> list[ListRow]:
    return AccountStore(services.store).lists_of(user_id)


def update_list(services: Services, user_id: int, slug: str, *, name: str, public: bool) -> ListRow:
    row = own_list(services, slug, user_id)
    accounts = AccountStore(services.store)
    with accounts.transaction():
        accounts.update_list(row.id, name=_name(name), public=public, now=services.clock())
    return own_list(services, slug, user_id)


def delete_list(services: Services, user_id: int, slug: str) -> None:
    row = own_list(services, slug, user_id)
    accounts = AccountStore(services.store)
    with accounts.transaction():
        accounts.delete_list(row.id)


def add_paper(services: Services, user_id: int, slug: str, paper_key: int) -> bool:
    row = own_list(services, slug, user_id)
    accounts = AccountStore(services.store)
    with accounts.transaction():
        added = accounts.add_item(row.id, paper_key, services.clock())
        accounts.touch_list(row.id, services.clock())
    return added


def remove_paper(services: Services, user_id: int, slug: str, paper_key: int) -> bool:
    row = own_list(services, slug, user_id)
    accounts = AccountStore(services.store)
    with accounts.transaction():
        return accounts.remove_item(row.id, paper_key)


def update_entry(
    services: Services,
    user_id: int,
    slug: str,
    paper_key: int,
    *,
    note: str | None = None,
    read: bool | None = None,
) -> None:
    row = own_list(services, slug, user_id)
    if note is not None:
        note = note.strip()
        if len(note) > MAX_NOTE:
            raise AccountError(f"Notes can be at most {MAX_NOTE} characters.")
    accounts = AccountStore(services.store)
    with accounts.transaction():
        if not accounts.update_item(row.id, paper_key, note=note, read=read):
            raise NotFound("That paper is not in this list.")


def entries(services: Services, row: ListRow, *, limit: int = 1000) -> list[ListEntry]:
    items: list[ListItemRow] = AccountStore(services.store).items(row.id, limit=limit)
    papers = services.store.papers_by_key([i.paper for i in items])
    return [
        ListEntry(papers[i.paper], i.paper, i.note, i.read, i.added_at)
        for i in items
        if i.paper in papers
    ]


def lists_containing(services: Services, user_id: int, paper_key: int) -> set[int]:
    return AccountStore(services.store).lists_containing(user_id, paper_key)


def set_not_interested(services: Services, user_id: int, paper_key: int, *, on: bool) -> None:
    accounts = AccountStore(services.store)
    with accounts.transaction():
        accounts.set_not_interested(user_id, paper_key, on, services.clock())


def not_interested(services: Services, user_id: int) -> set[int]:
    """Keys the user asked not to see in trending and recommendations."""
    return AccountStore(services.store).not_interested(user_id)
