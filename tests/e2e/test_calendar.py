"""The iCalendar feed read by a parser nobody here wrote (Python's icalendar), as calendar apps read it."""
import urllib.request
from datetime import timedelta, timezone

import icalendar


def fetch(server, path):
    with urllib.request.urlopen(server.url + path.lstrip("/"), timeout=10) as response:
        return response.headers.get("Content-Type"), response.read()


def test_calendar_feed_parses_and_says_what_calendar_apps_need(pitlane_demo_ttl10):
    content_type, body = fetch(pitlane_demo_ttl10, "/calendar.ics")
    assert content_type == "text/calendar; charset=utf-8"
    assert b"\r\n" in body and body.replace(b"\r\n", b"").count(b"\n") == 0, "CRLF line endings only"
    assert all(len(line) <= 75 for line in body.split(b"\r\n")), "lines folded at 75 octets"

    calendar = icalendar.Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0"
    assert str(calendar["PRODID"]).startswith("-//Pitlane//")
    events = list(calendar.walk("VEVENT"))
    assert len(events) > 200, "two bundled seasons of five sessions a weekend"
    uids = [str(event["UID"]) for event in events]
    assert len(set(uids)) == len(uids), "UIDs are unique"

    race = next(e for e in events if str(e["UID"]) == "2026-22-race@pitlane")
    assert str(race["SUMMARY"]) == "F1: Race — Qatar Grand Prix"
    assert str(race["LOCATION"]) == "Losail International Circuit, Lusail, Qatar"
    start, end = race.decoded("DTSTART"), race.decoded("DTEND")
    assert start.tzinfo is not None and start.utcoffset() == timedelta(0)
    assert end - start == timedelta(hours=2)
    assert str(race["STATUS"]) == "CONFIRMED"
    assert race["DTSTAMP"]


def test_calendar_feed_filters_session_kinds(pitlane_demo_ttl10):
    _, body = fetch(pitlane_demo_ttl10, "/calendar.ics?sessions=qualifying,race&season=2026")
    events = list(icalendar.Calendar.from_ical(body).walk("VEVENT"))
    assert len(events) == 46
    assert {str(e["SUMMARY"]).split(" — ")[0] for e in events} == {"F1: Qualifying", "F1: Race"}
