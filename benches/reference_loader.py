#!/usr/bin/env python3
"""The reference loader `dit bench --baseline` times `dit process` against (issue 24).

What a plain script does with an APP file when it validates nothing and writes no outputs: the
trust of each position from the POS files beside it (`ESR_<VPD>_POS_*.DAT`, second field), then
every APP line read with the `csv` module into SQLite in one transaction: per applicant one JSON
document of its fields and three rows (the applicant with its document, its placement link and
its creation history), with three indexes (by trust, by GMC number, by projected hire date). WAL
and synchronous=NORMAL, as dit's own store. No checks, no APC, no notifications, no history of
outcomes: the floor a loader that does the real work should be measured against.

    reference_loader.py POS_FOLDER APP_FILE DATABASE

Prints the number of applicants loaded.
"""

import csv
import json
import os
import sqlite3
import sys

# The APP record's fields after the record code (spec section 2.4), by name for the document.
APP_FIELDS = [
    "placement_id", "effective_date", "position_id", "position_number", "dpn", "last_name",
    "first_name", "middle_names", "title", "date_of_birth", "gender", "gmc_number", "gdc_number",
    "ni_number", "ntn", "email", "home_tel", "mobile_tel", "address_1", "address_2", "address_3",
    "town", "county", "postcode", "country", "nationality", "country_of_birth", "ethnic_origin",
    "marital_status", "religious_belief", "sexual_orientation", "disability",
    "previous_last_name", "projected_hire_date", "projected_end_date", "wte", "grade",
]

SCHEMA = """
CREATE TABLE applicants (number INTEGER PRIMARY KEY, placement_id TEXT NOT NULL, vpd TEXT,
                         gmc_number TEXT, hire_date TEXT, doc TEXT NOT NULL);
CREATE TABLE placement_links (placement_id TEXT PRIMARY KEY, number INTEGER NOT NULL);
CREATE TABLE history (number INTEGER NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL,
                      PRIMARY KEY (number, seq));
CREATE INDEX applicants_by_trust ON applicants (vpd, number);
CREATE INDEX applicants_by_gmc ON applicants (gmc_number);
CREATE INDEX applicants_by_hire_date ON applicants (hire_date);
"""


def trusts_of_positions(folder):
    trusts = {}
    for name in os.listdir(folder):
        parts = name.split("_")
        if len(parts) < 3 or parts[0] != "ESR" or parts[2] != "POS":
            continue
        with open(os.path.join(folder, name), newline="", encoding="utf-8") as pos:
            for row in csv.reader(pos):
                if row and row[0] == "POS":
                    trusts[row[1]] = parts[1]
    return trusts


def main(argv):
    if len(argv) != 4:
        print("usage: reference_loader.py POS_FOLDER APP_FILE DATABASE", file=sys.stderr)
        return 2
    pos_folder, app_file, database = argv[1:]
    trusts = trusts_of_positions(pos_folder)
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    db.execute("BEGIN")
    number = 5_000_000
    source = os.path.basename(app_file)
    with open(app_file, newline="", encoding="utf-8") as app:
        for row in csv.reader(app):
            if not row or row[0] != "APP":
                continue
            number += 1
            fields = dict(zip(APP_FIELDS, row[1:]))
            vpd = trusts.get(fields["position_id"])
            fields.update(applicant_number=number, vpd=vpd, state="loaded", source_file=source)
            db.execute(
                "INSERT INTO applicants VALUES (?, ?, ?, ?, ?, ?)",
                (number, fields["placement_id"], vpd, fields["gmc_number"],
                 fields["projected_hire_date"], json.dumps(fields)),
            )
            db.execute("INSERT INTO placement_links VALUES (?, ?)", (fields["placement_id"], number))
            db.execute(
                "INSERT INTO history VALUES (?, 1, ?)",
                (number, json.dumps({"command": "load", "to": "loaded", "source": source})),
            )
    db.execute("COMMIT")
    db.close()
    print(number - 5_000_000)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
