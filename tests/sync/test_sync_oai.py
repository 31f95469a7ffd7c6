"""``sync arxiv-oai`` against the replay server: resumption tokens, errors, expiry, resume."""

from __future__ import annotations

import sqlite3
from datetime import date

from replay import OAI_RECORDS, ReplayServer, body, cut, oai_id, settings_for, status

from paperlens.services import Services
from paperlens.sync.oai import stream_name, sync_oai
from paperlens.sync.pages import SyncContext

FROM = date(2017, 12, 14)
ALL = len(OAI_RECORDS)


def _ids(services: Services) -> list[str]:
    with sqlite3.connect(services.settings.db) as conn:
        return sorted(r[0] for r in conn.execute("SELECT arxiv_id FROM papers"))


def test_follows_resumption_tokens_to_the_end(
    ctx: SyncContext, replay: ReplayServer, services: Services
) -> None:
    report = sync_oai(ctx, set_spec="physics:hep-ex", from_=FROM)
    assert report.ok, report.to_json()
    assert ALL == 5 and report.pages == ALL and report.ingest.new == ALL
    queries = [r.query for r in replay.requests("/oai")]
    assert queries[0] == {
        "verb": "ListRecords", "metadataPrefix": "arXiv", "set": "physics:hep-ex",
        "from": "2017-12-14",
    }  # fmt: skip
    # OAI-PMH: a resumption request carries the token and nothing else.
    assert queries[1:] == [
        {"verb": "ListRecords", "resumptionToken": f"tok-{i}"} for i in range(1, ALL)
    ]
    assert _ids(services) == sorted(oai_id(r) for r in OAI_RECORDS)
    state = ctx.tables.state(stream_name("physics:hep-ex", "arXiv"))
    assert state is not None and state.done
    assert state.cursor["next_from"] == "2017-12-14"  # the first responseDate's day


def test_the_next_harvest_starts_from_the_last_response_date(
    ctx: SyncContext, replay: ReplayServer
) -> None:
    sync_oai(ctx, set_spec="physics:hep-ex", from_=FROM)
    again = sync_oai(ctx, set_spec="physics:hep-ex")
    assert again.ingest.unchanged == ALL and again.ingest.new == 0
    assert replay.requests("/oai")[ALL].query["from"] == "2017-12-14"


def test_no_records_match_is_a_quiet_empty_harvest(ctx: SyncContext) -> None:
    report = sync_oai(ctx, set_spec="moo", from_=FROM)
    assert report.ok and report.ingest.new == 0
    assert report.notes == ["no records changed in the range (noRecordsMatch)"]


def test_an_expired_token_restarts_the_harvest(ctx: SyncContext, replay: ReplayServer) -> None:
    replay.expired_tokens.add("tok-2")
    report = sync_oai(ctx, set_spec="physics:hep-ex", from_=FROM)
    assert report.ok and report.ingest.new == ALL and report.ingest.unchanged == 2
    assert any("resumption token expired" in n for n in report.notes)
    assert "metadataPrefix" in replay.requests("/oai")[3].query  # started over


def test_a_failed_page_is_resumed_with_its_token(services: Services, replay: ReplayServer) -> None:
    replay.fail("/oai", *[status(503)] * 2, where={"resumptionToken": "tok-3"})
    with SyncContext(services, settings_for(replay, max_retries=1)) as ctx:
        first = sync_oai(ctx, set_spec="physics:hep-ex", from_=FROM)
        assert first.ingest.new == 3 and "resumptionToken=tok-3" in first.errors[0].url
        second = sync_oai(ctx, set_spec="physics:hep-ex", from_=FROM)
    assert second.resumed == "page 4 of the harvest from 2017-12-14"
    assert replay.requests("/oai")[-2].query == {"verb": "ListRecords", "resumptionToken": "tok-3"}
    assert second.ok and second.ingest.new == 2 and len(_ids(services)) == ALL


def test_a_cut_page_is_reported_and_not_stored(services: Services, replay: ReplayServer) -> None:
    replay.fail("/oai", *[cut() for _ in range(3)], where={"resumptionToken": "tok-1"})
    with SyncContext(services, settings_for(replay)) as ctx:
        report = sync_oai(ctx, set_spec="physics:hep-ex", from_=FROM)
    assert "malformed or truncated XML" in report.errors[0].reason
    assert report.ingest.new == 1


def test_an_oai_error_is_reported(ctx: SyncContext, replay: ReplayServer) -> None:
    error = (
        b'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/'
        b'2.0/"><responseDate>2017-12-14T13:00:41Z</responseDate><request>x</request>'
        b'<error code="badArgument">Illegal date format</error></OAI-PMH>'
    )
    replay.fail("/oai", body(error, content_type="text/xml"))
    report = sync_oai(ctx, set_spec="cs", from_=FROM)
    assert [e.reason for e in report.errors] == ["OAI-PMH error badArgument: Illegal date format"]
