"""``paperlens digest ...``: preview, send, subscribe, unsubscribe and the outbox status.

Mail settings come from ``PAPERLENS_SMTP_*``, ``PAPERLENS_MAIL_FROM`` and
``PAPERLENS_BASE_URL`` (see docs/digest.md).
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from paperlens.cli.app import DbOption, JsonOption, app, err, fail, out, print_json, services_for
from paperlens.digest.optin import InvalidAddress
from paperlens.digest.prefs import InvalidSetting
from paperlens.digest.render import HeaderInjection
from paperlens.digest.tokens import InvalidToken

digest_app = typer.Typer(
    help="Email digests: preview, send, and manage subscribers.", no_args_is_help=True
)
app.add_typer(digest_app, name="digest")

CadenceOption = Annotated[
    str | None, typer.Option("--cadence", help="Only daily or only weekly subscribers.")
]


@contextmanager
def digest_env(db: Path | None) -> Iterator[Any]:
    """Services plus the digest wiring; bad input → exit 2, other errors → exit 1."""
    from paperlens.digest.env import DigestEnv
    from paperlens.digest.settings import DigestSettings

    with services_for(db) as services:
        try:
            settings = DigestSettings()
        except ValidationError as exc:
            problems = "; ".join(
                f"PAPERLENS_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
                for e in exc.errors()
            )
            fail(f"mail settings: {problems}", code=2)
        try:
            yield DigestEnv(services, settings)
        except (InvalidAddress, InvalidSetting, HeaderInjection, InvalidToken) as exc:
            fail(str(exc), code=2)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@digest_app.command("preview")
def preview_command(
    email: Annotated[str, typer.Option("--email", help="The subscriber's address.")],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the whole message (.eml, or .html for the HTML part)."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the digest ADDRESS would get now (nothing is written or sent)."""
    from paperlens.digest.optin import normalise_email
    from paperlens.digest.run import preview

    with digest_env(db) as env:
        address = normalise_email(email)
        sub = env.db.subscription_by_email(address)
        if sub is None:
            fail(
                f"no subscription for {address}; add one with `paperlens digest subscribe`", code=1
            )
        digest, rendered = preview(env, sub)
    if as_json:
        data = digest.to_json()
        data["status"] = sub.status
        print_json(data)
    if rendered is None:
        if not as_json:
            err.print(f"Nothing new for {address} since {digest.since:%Y-%m-%d %H:%M} UTC.")
        return
    if out_file is not None:
        if out_file.suffix.lower() in (".html", ".htm"):
            part = rendered.message.get_body(preferencelist=("html",))
            out_file.write_text(str(part.get_content()) if part else "", encoding="utf-8")
        else:
            out_file.write_bytes(rendered.as_bytes())
        if not as_json:
            err.print(f"Wrote {out_file}")
        return
    if not as_json:
        msg = rendered.message
        for name in ("From", "To", "Subject", "List-Unsubscribe"):
            out.print(f"{name}: {msg[name]}", markup=False, highlight=False)
        out.print("")
        body = msg.get_body(preferencelist=("plain",))
        sys.stdout.write(str(body.get_content()) if body else "")


@digest_app.command("send")
def send_command(
    cadence: CadenceOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compose and report; write and send nothing.")
    ] = False,
    resend_unknown: Annotated[
        bool,
        typer.Option(
            "--resend-unknown",
            help="Also resend messages whose delivery is unknown (may duplicate; same Message-ID).",
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each message.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compose the digests that are due, queue them, and deliver the outbox."""
    from paperlens.digest.period import CADENCES
    from paperlens.digest.run import run
    from paperlens.errors import ConfigError

    if cadence is not None and cadence not in CADENCES:
        fail(f"unknown cadence {cadence!r}; choose daily or weekly", code=2)
    _setup_logging(verbose)
    stopping = _stop_on_sigterm()
    with digest_env(db) as env:
        try:
            report = run(env, cadence=cadence, dry_run=dry_run, resend_unknown=resend_unknown,
                         should_stop=stopping)  # fmt: skip
        except ConfigError as exc:
            fail(str(exc), code=2)
    data = report.to_json()
    if as_json:
        print_json(data)
        return
    if not dry_run:
        data.pop("digests")
    _print_report(data)


def _stop_on_sigterm() -> Any:
    """SIGTERM stops between two messages, never inside one."""
    flag = {"stop": False}

    def handler(signum: int, frame: Any) -> None:
        flag["stop"] = True

    signal.signal(signal.SIGTERM, handler)
    return lambda: flag["stop"]


def _print_report(data: dict[str, Any]) -> None:
    label = " (dry run)" if data["dry_run"] else ""
    out.print(
        f"{data['subscribers']} active subscribers, {data['due']} due{label}: "
        f"{data['queued']} digests with {data['papers']} papers, {data['empty']} empty, "
        f"{data['already_queued']} already queued; composed in {data['compose_seconds']:.2f} s",
        highlight=False,
    )
    delivery = data.get("delivery")
    if delivery:
        out.print(
            f"delivered {delivery['sent']}, retrying {delivery['retried']}, "
            f"failed {delivery['failed']}, unknown {delivery['unknown']}, "
            f"cancelled {delivery['cancelled']} in {data['send_seconds']:.2f} s",
            highlight=False,
        )
        for line in delivery["errors"]:
            err.print(f"  {line}", markup=False, highlight=False)
        for address in delivery["paused"]:
            err.print(f"  paused after repeated bounces: {address}", markup=False)
        if delivery["unknown"]:
            err.print(
                "  some messages may or may not have arrived; see `paperlens digest status` "
                "and docs/digest.md before using --resend-unknown",
                markup=False,
            )
    for digest in data.get("digests", [])[:20]:
        n = len(digest["trending"]) + len(digest["for_you"])
        out.print(f"  {digest['email']}: {n} papers", markup=False, highlight=False)


@digest_app.command("subscribe")
def subscribe_command(
    email: Annotated[str, typer.Argument(help="Address to subscribe.")],
    cadence: Annotated[str, typer.Option("--cadence", help="daily or weekly.")] = "weekly",
    send_hour: Annotated[int, typer.Option("--hour", help="Local hour to send (0-23).")] = 7,
    timezone: Annotated[str, typer.Option("--timezone", help="IANA zone, e.g. Europe/Paris.")] = (
        "UTC"
    ),
    authors: Annotated[
        list[str] | None, typer.Option("--author", help="Follow an author (repeatable).")
    ] = None,
    orgs: Annotated[
        list[str] | None, typer.Option("--org", help="Follow an organisation (repeatable).")
    ] = None,
    categories: Annotated[
        list[str] | None, typer.Option("--category", help="Follow a category, e.g. cs.LG.")
    ] = None,
    searches: Annotated[
        list[str] | None, typer.Option("--search", help="Save a search (repeatable).")
    ] = None,
    confirmed: Annotated[
        bool,
        typer.Option(
            "--confirmed",
            help="Skip double opt-in: you vouch that the address's owner asked for this.",
        ),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Subscribe ADDRESS (sends a confirmation link unless --confirmed)."""
    from paperlens.digest import optin, prefs

    with digest_env(db) as env:
        if confirmed:
            sub_id = optin.add_confirmed(
                env, email, cadence=cadence, send_hour=send_hour, timezone=timezone
            ).id
            queued = False
        else:
            outcome = optin.subscribe(
                env, email, cadence=cadence, send_hour=send_hour, timezone=timezone
            )
            sub_id, queued = outcome.subscription_id, outcome.confirmation_queued
        for kind, values in (("author", authors), ("org", orgs), ("category", categories)):
            for value in values or []:
                prefs.follow(env, sub_id, kind, value)
        for query in searches or []:
            prefs.save_search(env, sub_id, query)
        if queued:
            from paperlens.digest.run import deliver

            deliver(env)
        sub = env.db.subscription(sub_id)
    assert sub is not None
    if as_json:
        print_json(
            {"id": sub.id, "email": sub.email, "status": sub.status, "confirmation_sent": queued}
        )
        return
    if sub.status == "active":
        out.print(f"{sub.email} is subscribed ({sub.cadence}).", markup=False)
    else:
        out.print(f"{sub.email}: {optin.SUBSCRIBE_ANSWER}", markup=False)


@digest_app.command("unsubscribe")
def unsubscribe_command(
    email: Annotated[str, typer.Argument(help="Address to unsubscribe.")],
    db: DbOption = None,
) -> None:
    """Unsubscribe ADDRESS now and cancel its queued mail."""
    from paperlens.digest import optin

    with digest_env(db) as env:
        address = optin.normalise_email(email)
        sub = env.db.subscription_by_email(address)
        if sub is None:
            fail(f"no subscription for {address}", code=1)
        optin.unsubscribe(env, sub)
    out.print(f"{address} is unsubscribed.", markup=False)


@digest_app.command("status")
def status_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Subscribers by state, the outbox by state, and messages needing attention."""
    with digest_env(db) as env:
        subs: dict[str, int] = {}
        for sub in env.db.subscriptions():
            subs[sub.status] = subs.get(sub.status, 0) + 1
        outbox = env.db.outbox_counts()
        attention = env.db.outbox(states=("unknown", "failed"), limit=50)
    data = {
        "subscriptions": subs,
        "outbox": outbox,
        "attention": [
            {
                "id": r.id,
                "state": r.state,
                "recipient": r.recipient,
                "period": r.period,
                "message_id": r.message_id,
                "error": r.last_error,
            }
            for r in attention
        ],
    }
    if as_json:
        print_json(data)
        return
    table = Table(title="digest", title_justify="left", show_header=False)
    for state, n in sorted(subs.items()):
        table.add_row(f"subscribers {state}", f"{n:,}")
    for state, n in sorted(outbox.items()):
        table.add_row(f"outbox {state}", f"{n:,}")
    out.print(table)
    for row in data["attention"]:
        out.print(
            f"  #{row['id']} {row['state']} {row['recipient']} {row['period']}: {row['error']}",
            markup=False,
            highlight=False,
        )
