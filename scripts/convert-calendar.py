#!/usr/bin/env python3
"""Converts the f1calendar.com season files (MIT licence, ../shared/data/f1calendar/) into the season
files Pitlane bundles (Sources/PitlaneCore/Resources/calendar/season-YYYY.json), adding each circuit's
name, country and IANA time zone from circuits.json. Run it when the source data changes:

    scripts/convert-calendar.py ../shared/data/f1calendar
"""
import datetime
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "Sources/PitlaneCore/Resources/calendar"
KINDS = {"fp1": "fp1", "fp2": "fp2", "fp3": "fp3", "sprintQualifying": "sprintQualifying", "sprint": "sprint", "qualifying": "qualifying", "gp": "race"}
MINUTES = {"fp1": 60, "fp2": 60, "fp3": 60, "sprintQualifying": 45, "sprint": 30, "qualifying": 60, "race": 120}


def main(source: Path):
    circuits = json.loads((OUT / "circuits.json").read_text())["circuits"]
    by_alias = {alias.lower(): c for c in circuits for alias in c["aliases"]}
    for path in sorted(source.glob("[0-9][0-9][0-9][0-9].json")):
        year = int(path.stem)
        events = []
        for race in json.loads(path.read_text())["races"]:
            circuit = by_alias.get(race["location"].lower())
            if circuit is None:
                sys.exit(f"{path.name}: no circuit for location {race['location']!r}: add it to circuits.json")
            name = race["name"] if "Grand Prix" in race["name"] else race["name"] + " Grand Prix"
            state = "cancelled" if race.get("canceled") else "tbc" if race.get("tbc") else "scheduled"
            sessions = []
            for key, start in race["sessions"].items():
                kind = KINDS[key]
                begin = datetime.datetime.fromisoformat(start.replace("Z", "+00:00"))
                end = begin + datetime.timedelta(minutes=MINUTES[kind])
                sessions.append({"kind": kind, "start": begin.strftime("%Y-%m-%dT%H:%M:%SZ"), "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"), "state": state})
            sessions.sort(key=lambda s: s["start"])
            events.append({
                "round": race["round"], "name": name, "slug": race["slug"], "circuitId": circuit["id"], "circuit": circuit["name"],
                "locality": circuit["locality"], "country": circuit["country"], "latitude": race["latitude"], "longitude": race["longitude"],
                "timeZone": circuit["timeZone"], "sessions": sessions,
            })
        season = {"season": year, "source": "f1calendar.com (MIT licence, see LICENSE-f1calendar)", "events": events}
        (OUT / f"season-{year}.json").write_text(json.dumps(season, indent=1, ensure_ascii=False) + "\n")
        print(f"season-{year}.json: {len(events)} events")
    shutil.copyfile(source / "LICENSE", OUT / "LICENSE-f1calendar")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared/data/f1calendar"))
