"""Signed links: confirm, unsubscribe and manage, each bound to one address.

``itsdangerous`` signs a small payload with the site's secret and a salt per
purpose, so a token made for one purpose never passes as another, and a
token carries the address it was made for: the handler checks that address
against the subscription, so a token cannot be replayed for another address
(changing it breaks the signature). Confirmation tokens expire
(``confirm_ttl_hours``) and name a nonce that only the latest confirmation
mail carries; unsubscribe links never expire (RFC 8058 one-click links must
keep working for as long as old mail sits in an inbox).
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from paperlens.errors import PaperlensError

_CONFIRM = "paperlens.digest.confirm"
_UNSUBSCRIBE = "paperlens.digest.unsubscribe"
_MANAGE = "paperlens.digest.manage"


class InvalidToken(PaperlensError):
    """A confirm/unsubscribe/manage link is forged, altered, expired or superseded."""


@dataclass(frozen=True, slots=True)
class ConfirmClaim:
    email: str
    nonce: str


@dataclass(frozen=True, slots=True)
class SubscriberClaim:
    subscription_id: int
    email: str


class Tokens:
    """Makes and checks the signed tokens of digest links."""

    def __init__(self, secret: str) -> None:
        self._confirm = URLSafeTimedSerializer(secret, salt=_CONFIRM)
        self._unsubscribe = URLSafeSerializer(secret, salt=_UNSUBSCRIBE)
        self._manage = URLSafeSerializer(secret, salt=_MANAGE)

    def confirm(self, email: str, nonce: str) -> str:
        return str(self._confirm.dumps({"e": email, "n": nonce}))

    def read_confirm(self, token: str, *, max_age_s: float) -> ConfirmClaim:
        try:
            data = self._confirm.loads(token, max_age=int(max_age_s))
        except SignatureExpired:
            raise InvalidToken(
                "this confirmation link has expired; subscribe again to get a new one"
            ) from None
        except BadSignature:
            raise InvalidToken("this confirmation link is not valid") from None
        return ConfirmClaim(str(data["e"]), str(data["n"]))

    def unsubscribe(self, subscription_id: int, email: str) -> str:
        return str(self._unsubscribe.dumps({"s": subscription_id, "e": email}))

    def read_unsubscribe(self, token: str) -> SubscriberClaim:
        return _subscriber(self._unsubscribe, token, "unsubscribe")

    def manage(self, subscription_id: int, email: str) -> str:
        return str(self._manage.dumps({"s": subscription_id, "e": email}))

    def read_manage(self, token: str) -> SubscriberClaim:
        return _subscriber(self._manage, token, "settings")


def _subscriber(serializer: URLSafeSerializer, token: str, what: str) -> SubscriberClaim:
    try:
        data = serializer.loads(token)
        return SubscriberClaim(int(data["s"]), str(data["e"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise InvalidToken(f"this {what} link is not valid") from None
