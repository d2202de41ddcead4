#!/usr/bin/env python3
"""Writes the sample TIS/trust files in events/files/ (fictitious people and positions), and the
rotation-day file of events/rotation-day/ (an internal mover; see the README's walkthrough).

Each file exercises messages or quarantine reasons of ../shared/spec/interface.md; the table in
events/README.md says which. Run from the repository root: python3 scripts/make_sample_files.py
"""
import os

OUT = os.path.join(os.path.dirname(__file__), "..", "events", "files")
ROTATION_DAY = os.path.join(os.path.dirname(__file__), "..", "events", "rotation-day")
GENERATED = "2026-11-21T13:00:00Z"

APP_FIELDS = [
    "PLACEMENT_ID", "EFFECTIVE_DATE", "POSITION_ID", "POSITION_NUMBER", "DEANERY_POST_NUMBER",
    "LAST_NAME", "FIRST_NAME", "MIDDLE_NAMES", "TITLE", "DATE_OF_BIRTH", "GENDER", "GMC_NUMBER",
    "GDC_NUMBER", "NATIONAL_INSURANCE_NUMBER", "NATIONAL_TRAINING_NUMBER", "EMAIL_ADDRESS",
    "HOME_TEL", "MOBILE_TEL", "ADDRESS_LINE_1", "ADDRESS_LINE_2", "ADDRESS_LINE_3", "TOWN",
    "COUNTY", "POSTCODE", "COUNTRY", "NATIONALITY", "COUNTRY_OF_BIRTH", "ETHNIC_ORIGIN",
    "MARITAL_STATUS", "RELIGIOUS_BELIEF", "SEXUAL_ORIENTATION", "DISABILITY", "PREVIOUS_LAST_NAME",
    "PROJECTED_HIRE_DATE", "PROJECTED_END_DATE", "WTE", "GRADE",
]


def csv_field(value):
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def line(fields):
    return ",".join(csv_field(f) for f in fields)


def app(placement, position, number, dpn, last, first, gmc, **extra):
    record = {
        "PLACEMENT_ID": placement, "EFFECTIVE_DATE": "2026-11-21", "POSITION_ID": position,
        "POSITION_NUMBER": number, "DEANERY_POST_NUMBER": dpn, "LAST_NAME": last,
        "FIRST_NAME": first, "TITLE": "Dr", "DATE_OF_BIRTH": "1994-03-14", "GENDER": "F",
        "GMC_NUMBER": gmc, "NATIONAL_INSURANCE_NUMBER": "", "EMAIL_ADDRESS": f"{first.lower()}.{last.lower()}@example.nhs.uk",
        "MOBILE_TEL": "07700900123", "ADDRESS_LINE_1": "1 Example Street", "TOWN": "Exampleton",
        "POSTCODE": "EX1 1AA", "COUNTRY": "GB", "NATIONALITY": "GB", "COUNTRY_OF_BIRTH": "GB",
        "ETHNIC_ORIGIN": "Z", "MARITAL_STATUS": "S", "DISABILITY": "N",
        "PROJECTED_HIRE_DATE": "2027-02-03", "PROJECTED_END_DATE": "2027-08-03", "WTE": "1.0", "GRADE": "F1",
    }
    record.update(extra)
    return line(["APP"] + [record.get(f, "") for f in APP_FIELDS])


DNC_FIELDS = [
    "NOTIFICATION_TYPE", "DEANERY_POST_NUMBER", "MANAGING_DEANERY_BODY", "POSITION_ID", "VPD", "POST_SPECIALTY", "SITE",
    "CURRENT_LAST_NAME", "CURRENT_FIRST_NAME", "CURRENT_GMC_NUMBER", "CURRENT_PROJECTED_END_DATE", "CURRENT_NEXT_PLACEMENT_SITE",
    "CURRENT_WTE", "NEXT_LAST_NAME", "NEXT_FIRST_NAME", "NEXT_GMC_NUMBER", "NEXT_CURRENT_PLACEMENT_SITE", "NEXT_PROJECTED_START_DATE",
    "NEXT_EMAIL_ADDRESS", "NEXT_GRADE", "NEXT_WTE", "WITHDRAWN_LAST_NAME", "WITHDRAWN_FIRST_NAME", "WITHDRAWN_GMC_NUMBER",
    "WITHDRAWAL_REASON", "REPLACEMENT_LAST_NAME", "REPLACEMENT_FIRST_NAME", "REPLACEMENT_GMC_NUMBER",
    "REPLACEMENT_PROJECTED_HIRE_DATE", "CHANGE_OF_PROJECTED_HIRE_DATE", "CHANGE_OF_PROJECTED_END_DATE",
    "POST_VACANT_AT_NEXT_ROTATION",
]


def dnc(kind, position, dpn, specialty, **extra):
    record = {"NOTIFICATION_TYPE": kind, "DEANERY_POST_NUMBER": dpn, "MANAGING_DEANERY_BODY": "KSS", "POSITION_ID": position,
              "VPD": "504", "POST_SPECIALTY": specialty, "SITE": "Example Hospital"}
    record.update(extra)
    return line(["DNC"] + [record.get(f, "") for f in DNC_FIELDS])


def pos(position, number, name, dpn, host_lead="Lead Employer", start="2020-08-01", end="", mdb="KSS", org="504 Example Hospital"):
    return line(["POS", position, number, name, dpn, mdb, host_lead, start, end, "N1L", "F1", "Example Hospital", "RXX", org])


def write(name, header, records, trailer=None, raw=None, out=OUT):
    path = os.path.join(out, name)
    if raw is not None:
        with open(path, "wb") as f:
            f.write(raw)
        return
    lines = ([header] if header else []) + records
    if trailer is not False:
        lines.append(f"TRL,{len(records) if trailer is None else trailer}")
    with open(path, "w", newline="") as f:
        f.write("\r\n".join(lines) + "\r\n")


def hdr(kind, source, date, seq):
    return f"HDR,{kind},{source},{date},{seq},{GENERATED},1"


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".DAT"):
            os.remove(os.path.join(OUT, old))

    # Trust 504: usable positions, a duplicate DPN, DPN and position-name quality issues, an ended
    # position, a non-training post without DPN, an unreadable line.
    write("ESR_504_POS_20261121_00000001.DAT", hdr("POS", "504", "20261121", "00000001"), [
        pos("10508064", "10508064", "10508064|Foundation House Officer|F1|Anaesthetics", "KSS/RJZ01/030/STR/001"),
        pos("10508065", "10508065", "10508065|Foundation House Officer|F1|Medicine", "KSS/RJZ01/030/STR/002"),
        pos("10508066", "10508066", "10508066|Specialty Registrar|ST4|Cardiology", "KSS/RJZ01/030/STR(H)/003"),
        pos("10508067", "10508067", "10508067|Specialty Registrar|ST4|Cardiology", "KSS/A12345/100/STR/123"),
        pos("10508068", "10508068", "10508068|Specialty Registrar|ST4|Cardiology", "KSS/A12345/100/STR/123"),
        pos("10508069", "10508069", "10508069|Core Trainee|CT1|Surgery", "KSS//030/STR"),
        pos("10508070", "10508070", "Core Trainee CT1 Surgery", "KSS/RJZ01/030/CT1/007"),
        pos("10508071", "10508071", "10508071|Core Trainee|CT1|Surgery", "KSS/RJZ01/030/CT1/008", end="2026-01-31"),
        pos("10508072", "10508072", "10508072|Consultant|CON|Surgery", ""),
        pos("10508073", "10508073", "10508073|Core Trainee|CT2|Surgery", "KSS/RJZ01/030/CT2\t/009"),
        pos("ABC123", "10508074", "10508074|Core Trainee|CT2|Surgery", "KSS/RJZ01/030/CT2/010"),
    ])
    # Trust 505 hosts trainees (Host Employer positions); trust 999 is configured but not live.
    write("ESR_505_POS_20261121_00000001.DAT", hdr("POS", "505", "20261121", "00000001"), [
        pos("20500001", "20500001", "20500001|GP Registrar|ST1|General Practice", "KSS/RXX01/600/GPST/001", host_lead="Host Employer", org="505 Example Community"),
    ])
    write("ESR_999_POS_20261121_00000001.DAT", hdr("POS", "999", "20261121", "00000001"), [
        pos("99900001", "99900001", "99900001|Foundation House Officer|F2|Medicine", "KSS/RZZ01/030/F2/001", org="999 Not Yet Live"),
    ])

    dpn1, dpn2, dpn3 = "KSS/RJZ01/030/STR/001", "KSS/RJZ01/030/STR/002", "KSS/RJZ01/030/STR(H)/003"
    long_text = "A religious belief written out at far greater length than the sixty characters allowed"
    write("DE_KSS_APP_20261121_00000042.DAT", hdr("APP", "KSS", "20261121", "00000042"), [
        app("7000001", "10508064", "10508064", dpn1, "Okafor", "Adaeze", "7544158"),
        app("7000002", "10508065", "10508065", dpn2, "Lindqvist", "Erik", "7544159", DISABILITY="NO"),
        app("7000003", "10508066", "10508066", dpn3, "Okafor", "Adaeze", "7544158"),
        app("7000004", "10508064", "10508064", dpn1, "", "Nameless", "7544160"),
        app("7000005", "10508065", "10508065", dpn2, "Bad-Date", "Birth", "7544161", DATE_OF_BIRTH="1994-02-30"),
        app("7000006", "99999999", "99999999", "KSS/NOPE/000/XX/001", "Unknown", "Position", "7544162"),
        app("7000007", "10508064", "10508064", "KSS/RJZ01/030/STR/099", "Wrong", "Dpn", "7544163"),
        app("7000008", "10508064", "10508064", dpn1, "Early", "Start", "7544164", PROJECTED_HIRE_DATE="2026-11-22"),
        app("7000009", "10508064", "10508064", dpn1, "Late", "Start", "7544165", PROJECTED_HIRE_DATE="2027-03-01"),
        app("7000001", "10508064", "10508064", dpn1, "Okafor", "Adaeze", "7544158"),
        app("7000011", "99900001", "99900001", "KSS/RZZ01/030/F2/001", "Notlive", "Trust", "7544166"),
        app("7000012", "10508067", "10508067", "KSS/A12345/100/STR/123", "Duplicate", "Dpn", "7544167"),
        app("7000013", "20500001", "20500001", "KSS/RXX01/600/GPST/001", "Host", "Trainee", "", NATIONAL_INSURANCE_NUMBER="QQ123456C", DATE_OF_BIRTH="1992-07-01"),
        app("7000014", "10508065", "10508065", dpn2, "Malformed", "Gmc", "12345", NATIONAL_INSURANCE_NUMBER="QQ654321A"),
        app("7000015", "10508065", "10508065", dpn2, "Many", "Warnings", "7544168", TITLE="Sir", GENDER="Q",
            EMAIL_ADDRESS="not-an-email", COUNTRY="UK", NATIONALITY="GBR", COUNTRY_OF_BIRTH="ZZ", ETHNIC_ORIGIN="I",
            MARITAL_STATUS="X", WTE="1.5", RELIGIOUS_BELIEF=long_text, NATIONAL_INSURANCE_NUMBER="QQ123456E"),
        app("7000016", "10508064", "10508064", dpn1, "Mandatory", "Missing", "7544169", PROJECTED_HIRE_DATE="", POSITION_NUMBER=""),
    ])
    # A later file: a placement already loaded, and a known person (EXISTING Applicant).
    write("DE_KSS_APP_20261121_00000043.DAT", hdr("APP", "KSS", "20261121", "00000043"), [
        app("7000002", "10508065", "10508065", dpn2, "Lindqvist", "Erik", "7544159"),
        app("7000021", "10508066", "10508066", dpn3, "Lindqvist", "Erik", "7544159"),
    ])
    # SEQ 44 never arrives: 45 is processed with an operator warning naming the gap.
    write("DE_KSS_APP_20261121_00000045.DAT", hdr("APP", "KSS", "20261121", "00000045"), [
        app("7000031", "10508064", "10508064", dpn1, "Gap", "After", "7544170"),
    ])

    # Whole-file faults: each of these is quarantined.
    ok = app("7000091", "10508064", "10508064", dpn1, "Quarantine", "Sample", "7544191")
    write("DE_XYZ_APP_20261121_00000050.DAT", hdr("APP", "XYZ", "20261121", "00000050"), [ok])
    write("DE_KSS_APP_20261121_00000051.DAT", None, [ok])
    write("DE_KSS_APP_20261121_00000052.DAT", hdr("APP", "LDN", "20261121", "00000052"), [ok])
    write("DE_KSS_APP_20261121_00000053.DAT", hdr("APP", "KSS", "20261121", "00000053"), [ok, ok.replace("7000091", "7000092")], trailer=False)
    write("DE_KSS_APP_20261121_00000054.DAT", hdr("APP", "KSS", "20261121", "00000054"), [ok], trailer=3)
    write("DE_KSS_APP_20261121_00000055.DAT", hdr("APP", "KSS", "20261121", "00000055"), [ok, "XYZ,1,2,3"])
    write("DE_KSS_APP_20261121_00000056.DAT", hdr("APP", "KSS", "20261121", "00000056"), [ok, "APP,7000093,2026-11-21,10508064"])
    bad_utf8 = (hdr("APP", "KSS", "20261121", "00000057") + "\r\n").encode() + ok.replace("Sample", "Sampl\udcff").encode("utf-8", "surrogateescape") + b"\r\nTRL,1\r\n"
    write("DE_KSS_APP_20261121_00000057.DAT", None, None, raw=bad_utf8)
    bucket = [app(str(7100000 + i), "10508064", "10508064", dpn1, "Bucket", f"Trainee{i}", str(7600000 + i)) for i in range(41)]
    write("DE_KSS_APP_20261121_00000058.DAT", hdr("APP", "KSS", "20261121", "00000058"), bucket)
    # SEQ 42 again, different content (and another date): refused as a re-used sequence number.
    write("DE_KSS_APP_20261122_00000042.DAT", hdr("APP", "KSS", "20261122", "00000042"), [ok])
    # Notification files (after the APP files of the same day, in business order: DNF then DNC).
    write("DE_KSS_DNF_20261121_00000001.DAT", hdr("DNF", "KSS", "20261121", "00000001"), [
        dnc("1", "10508064", dpn1, "Anaesthetics", CURRENT_LAST_NAME="Holder", CURRENT_FIRST_NAME="Current", CURRENT_GMC_NUMBER="7100001",
            CURRENT_PROJECTED_END_DATE="2027-02-02", CURRENT_NEXT_PLACEMENT_SITE="Other Hospital", CURRENT_WTE="1.0",
            NEXT_LAST_NAME="Okafor", NEXT_FIRST_NAME="Adaeze", NEXT_GMC_NUMBER="7544158", NEXT_CURRENT_PLACEMENT_SITE="NOT KNOWN",
            NEXT_PROJECTED_START_DATE="2027-02-03", NEXT_EMAIL_ADDRESS="adaeze.okafor@example.nhs.uk", NEXT_GRADE="F1", NEXT_WTE="1.0",
            POST_VACANT_AT_NEXT_ROTATION="N"),
        dnc("1", "10508065", dpn2, "Medicine", CURRENT_LAST_NAME="Holder", CURRENT_FIRST_NAME="Second", CURRENT_GMC_NUMBER="7100002",
            CURRENT_PROJECTED_END_DATE="2027-02-02", NEXT_LAST_NAME="Lindqvist", NEXT_FIRST_NAME="Erik", NEXT_GMC_NUMBER="7544159",
            NEXT_PROJECTED_START_DATE="2027-02-03", NEXT_GRADE="F1", NEXT_WTE="1.0", POST_VACANT_AT_NEXT_ROTATION="N"),
        # A next-placement site that a spreadsheet program would take for a formula: the MEDROT shows it as text.
        dnc("1", "10508066", dpn3, "Cardiology", CURRENT_LAST_NAME="Holder", CURRENT_FIRST_NAME="Third", CURRENT_GMC_NUMBER="7100003",
            CURRENT_PROJECTED_END_DATE="2027-02-02", CURRENT_NEXT_PLACEMENT_SITE='=HYPERLINK("http://example.invalid","Next site")',
            POST_VACANT_AT_NEXT_ROTATION="Y"),
    ])
    write("DE_KSS_DNC_20261121_00000046.DAT", hdr("DNC", "KSS", "20261121", "00000046"), [
        # 1: a date change for applicant 5000002 (with its fresh type 1).
        dnc("4", "10508065", dpn2, "Medicine", NEXT_LAST_NAME="Lindqvist", NEXT_FIRST_NAME="Erik", NEXT_GMC_NUMBER="7544159",
            CHANGE_OF_PROJECTED_HIRE_DATE="2027-02-10", CHANGE_OF_PROJECTED_END_DATE="2027-08-09"),
        dnc("1", "10508065", dpn2, "Medicine", CURRENT_LAST_NAME="Holder", CURRENT_FIRST_NAME="Second", CURRENT_GMC_NUMBER="7100002",
            NEXT_LAST_NAME="Lindqvist", NEXT_FIRST_NAME="Erik", NEXT_GMC_NUMBER="7544159", NEXT_PROJECTED_START_DATE="2027-02-10",
            POST_VACANT_AT_NEXT_ROTATION="N"),
        # 3: withdrawal of applicant 5000003 (Okafor's second application, position 10508066).
        dnc("2", "10508066", dpn3, "Cardiology", WITHDRAWN_LAST_NAME="Okafor", WITHDRAWN_FIRST_NAME="Adaeze", WITHDRAWN_GMC_NUMBER="7544158"),
        # 4: withdrawal of someone the trust has no applicant for: "Number Unavailable".
        dnc("2", "10508066", dpn3, "Cardiology", WITHDRAWN_LAST_NAME="Smith", WITHDRAWN_FIRST_NAME="Frederick", WITHDRAWN_GMC_NUMBER="9999999",
            WITHDRAWAL_REASON="1: Resigned"),
        # 5: a replacement trainee.
        dnc("3", "10508066", dpn3, "Cardiology", WITHDRAWN_LAST_NAME="Okafor", WITHDRAWN_FIRST_NAME="Adaeze", WITHDRAWN_GMC_NUMBER="7544158",
            REPLACEMENT_LAST_NAME="Novak", REPLACEMENT_FIRST_NAME="Petra", REPLACEMENT_GMC_NUMBER="7544171", REPLACEMENT_PROJECTED_HIRE_DATE="2027-02-03"),
        # 6-7: new training posts, one without a specialty.
        dnc("5", "", "KSS/RJZ01/600/GPST/003", "General Practice", SITE="Medical Centre"),
        dnc("5", "", "KSS/RJZ01/700/XX/001", ""),
        # 8-10: failures: a trust not live, an unknown type, a withdrawal without GMC number.
        dnc("5", "", "KSS/RZZ01/030/F2/009", "Medicine", VPD="999"),
        dnc("9", "10508064", dpn1, "Anaesthetics"),
        dnc("2", "10508064", dpn1, "Anaesthetics"),
    ])

    # The next day (revision 2 of the contract). APP 59: placement 7000004, rejected in APP 42 for
    # its missing LAST_NAME, now valid: it loads (a rejected record blocks nothing); 7000041 is the
    # current holder of 10508064 in DNF 1 (GMC 7100001), so an EXISTING Employee of trust 504.
    next_day = {"EFFECTIVE_DATE": "2026-11-22", "PROJECTED_HIRE_DATE": "2027-02-17", "PROJECTED_END_DATE": "2027-08-17"}
    write("DE_KSS_APP_20261122_00000059.DAT", hdr("APP", "KSS", "20261122", "00000059"), [
        app("7000004", "10508064", "10508064", dpn1, "Corrected", "Nameless", "7544160", **next_day),
        app("7000041", "10508065", "10508065", dpn2, "Holder", "Current", "7100001", **next_day),
    ])
    # DNF 2: trust 504's snapshot lists 10508064 and 10508065 only, so the grid row of 10508066
    # (from DNF 1) is dropped and trust 504's MEDROT of this DNF has two rows.
    write("DE_KSS_DNF_20261122_00000002.DAT", hdr("DNF", "KSS", "20261122", "00000002"), [
        dnc("1", "10508064", dpn1, "Anaesthetics", CURRENT_LAST_NAME="Holder", CURRENT_FIRST_NAME="Current", CURRENT_GMC_NUMBER="7100001",
            CURRENT_PROJECTED_END_DATE="2027-02-02", CURRENT_NEXT_PLACEMENT_SITE="Other Hospital", CURRENT_WTE="1.0",
            NEXT_LAST_NAME="Okafor", NEXT_FIRST_NAME="Adaeze", NEXT_GMC_NUMBER="7544158", NEXT_CURRENT_PLACEMENT_SITE="NOT KNOWN",
            NEXT_PROJECTED_START_DATE="2027-02-03", NEXT_EMAIL_ADDRESS="adaeze.okafor@example.nhs.uk", NEXT_GRADE="F1", NEXT_WTE="1.0",
            POST_VACANT_AT_NEXT_ROTATION="N"),
        dnc("1", "10508065", dpn2, "Medicine", CURRENT_LAST_NAME="Holder", CURRENT_FIRST_NAME="Second", CURRENT_GMC_NUMBER="7100002",
            CURRENT_PROJECTED_END_DATE="2027-02-02", NEXT_LAST_NAME="Lindqvist", NEXT_FIRST_NAME="Erik", NEXT_GMC_NUMBER="7544159",
            NEXT_PROJECTED_START_DATE="2027-02-10", NEXT_GRADE="F1", NEXT_WTE="1.0", POST_VACANT_AT_NEXT_ROTATION="N"),
    ])

    # DNC 47 (the next day): applicant 5000008 (placement 7000031, APP 45) now starts on 2027-02-01,
    # after its reminder date (2027-01-27) has passed: the 2027-01-29 reminder lists it, marked late.
    write("DE_KSS_DNC_20261122_00000047.DAT", hdr("DNC", "KSS", "20261122", "00000047"), [
        dnc("4", "10508064", dpn1, "Anaesthetics", NEXT_LAST_NAME="Gap", NEXT_FIRST_NAME="After", NEXT_GMC_NUMBER="7544170",
            CHANGE_OF_PROJECTED_HIRE_DATE="2027-02-01"),
    ])

    # An outbound type dropped inbound.
    write("DE_KSS_APC_20261121_00000042.DAT", hdr("APC", "KSS", "20261121", "00000042"), [])

    rotation_day()


def rotation_day():
    """events/rotation-day/: run after events/files/ and events/messages/walkthrough.jsonl, which
    hires applicant 5000001 (Adaeze Okafor, GMC 7544158) on 10508064. APP 60 places her on
    10508065 from 2027-02-17: an EXISTING Employee of trust 504, so an internal mover (section 10)
    that events/messages/rotation-day.jsonl moves with update_assignment."""
    os.makedirs(ROTATION_DAY, exist_ok=True)
    dpn2 = "KSS/RJZ01/030/STR/002"
    moved = {"EFFECTIVE_DATE": "2026-11-23", "PROJECTED_HIRE_DATE": "2027-02-17", "PROJECTED_END_DATE": "2027-08-17"}
    write("DE_KSS_APP_20261123_00000060.DAT", hdr("APP", "KSS", "20261123", "00000060"), [
        app("7000061", "10508065", "10508065", dpn2, "Okafor", "Adaeze", "7544158", **moved),
    ], out=ROTATION_DAY)


if __name__ == "__main__":
    main()
