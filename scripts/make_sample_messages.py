#!/usr/bin/env python3
"""Writes the sample trust-action and Trac messages (fictitious people and numbers).

events/messages/<name>.json      one message each (for `dit action FILE`)
events/messages/walkthrough.jsonl all of them in order, with a redelivery, a body that is not JSON
                                  and one without id (for `dit action events/messages/walkthrough.jsonl`)
events/messages/rotation-day.jsonl the rotation-day walkthrough of the README (after
                                  `dit process events/rotation-day/`): internal mover 5000011 offered,
                                  accepted, its hire refused, moved with update_assignment;
                                  record_checks refused for trust 504 (it takes Trac's)
events/sqs/<name>.json           SQS events carrying them (for `cargo lambda invoke --data-file`),
                                  each record with the SenderId of its sender (see SENDERS)

The applicants are those the sample files load (`dit process events/files/`): 5000001-5000003,
5000005 and 5000006 in trust 504 (Full Records, lead employer), 5000004 in trust 505 (Part
Records, a Host Employer position). Run from the repository root:
python3 scripts/make_sample_messages.py
"""
import json
import os

ROOT = os.path.join(os.path.dirname(__file__), "..", "events")
MESSAGES = os.path.join(ROOT, "messages")
SQS = os.path.join(ROOT, "sqs")


# The SQS SenderId of each sender, as configured in events/files/organisations.toml: a role id
# (AROA...) with a session name for the trusts, an IAM user id (AIDA...) for Trac.
SENDERS = {
    "504": "AROAEXAMPLETRUST504:integration",
    "505": "AROAEXAMPLETRUST505:integration",
    "trac": "AIDAEXAMPLETRAC",
    "unknown": "AIDAEXAMPLENOTCONFIGURED",
}


def action(id_, action_, vpd, applicant, **extra):
    message = {"id": id_, "action": action_, "vpd": vpd, "applicant_number": applicant}
    message.update(extra)
    return message


TRAC_CHECKS = {
    "dbs": {
        "status": "clear",
        "reference": "001234567890",
        "completed_on": "2026-10-02",
        "level": "enhanced",
        "date_of_birth": "1994-03-14",
        "surname": "Okafor"
    },
    "professional_registration": {
        "status": "full registration with a licence to practise",
        "reference": "7544158",
        "expires_on": "2027-10-31",
        "body": "GMC",
        "full_name": "Adaeze Okafor"
    },
    "references": [
        {
            "status": "satisfactory",
            "completed_on": "2026-10-20",
            "referee_name": "Dr Example Referee",
            "referee_email": "referee@example.nhs.uk"
        },
        {
            "status": "satisfactory",
            "completed_on": "2026-10-22"
        }
    ],
    "employment_checklist": {
        "status": "complete",
        "completed_on": "2026-10-25",
        "occupational_health": "cleared"
    },
    "illegal_working_checklist": {
        "outcome": "right to work confirmed",
        "completed_on": "2026-10-05",
        "document_type": "passport",
        "passport_number": "000000000",
        "national_insurance_number": "QQ123456C"
    },
    "eu_status": {
        "status": "not required",
        "address": {
            "line_1": "1 Example Street",
            "postcode": "EX1 1AA"
        }
    }
}

SAMPLES = [
    # name, message, what it shows
    ("offer-5000001", action("504-0001", "offer", "504", "5000001", effective_date="2026-11-25"),
     "offer: loaded -> offered"),
    ("offer-5000001-repeat", action("504-0002", "offer", "504", "5000001"),
     "the same move again with a new id: unchanged, nothing written"),
    ("accept-5000001", action("504-0003", "accept", "504", "5000001", effective_date="2026-11-28"),
     "accept: offered -> accepted"),
    ("trac-5000001", {"id": "trac-0001", "source": "trac", "vpd": "504", "applicant_number": "5000001",
                      "status": "outcome recruited",
                      "person": {"first_name": "Adaeze", "last_name": "Okafor"},
                      "checks": TRAC_CHECKS},
     "Trac checks at 'outcome recruited': stored once, identity fields dropped and listed"),
    ("trac-5000001-again", {"id": "trac-0002", "source": "trac", "vpd": "504", "applicant_number": "5000001",
                            "status": "outcome recruited", "checks": {"dbs": {"level": "enhanced", "outcome": "clear"}}},
     "a later Trac copy: refused, already transferred"),
    ("hire-without-person-type", action("504-0004", "hire", "504", "5000001", effective_date="2027-02-03"),
     "hire without person_type: refused, recorded in the applicant's history"),
    ("hire-5000001", action("504-0005", "hire", "504", "5000001", effective_date="2027-02-03", person_type="Employee"),
     "hire as Employee: accepted -> hired; the person becomes an EXISTING Employee of trust 504"),
    ("person-update-5000001", action("504-0006", "person_update", "504", "5000001", effective_date="2027-03-01",
                                     person={"MOBILE_TEL": "07700900456", "ADDRESS_LINE_1": "2 Example Road",
                                             "TOWN": "Exampleton", "POSTCODE": "EX1 2BB"}),
     "person update of a hired trainee, Full Records lead employer: kept for the next RMC"),
    ("withdraw-5000001-after-hire", action("504-0007", "withdraw", "504", "5000001", reason="Trainee declined"),
     "withdraw after hire: refused (hired is final)"),
    ("wrong-trust", action("505-0001", "offer", "505", "5000001"),
     "trust 505 naming trust 504's applicant: refused exactly like an unknown applicant, nothing written on 5000001"),
    ("unknown-applicant", action("504-0008", "offer", "504", "5999999"),
     "an applicant number that does not exist: refused, operator entry"),
    ("sender-not-trust-504", action("505-0007", "offer", "504", "5000005"),
     "sent by trust 505 (`--as trust:505`) in trust 504's name: refused `sender is not trust 504`"),
    ("offer-5000004", action("505-0002", "offer", "505", "5000004"), "host-employer applicant: offer"),
    ("accept-5000004", action("505-0003", "accept", "505", "5000004"), "host-employer applicant: accept"),
    ("hire-5000004-as-employee", action("505-0004", "hire", "505", "5000004", person_type="Employee"),
     "hire as Employee on a Host Employer position: refused, must be Honorary"),
    ("hire-5000004-honorary", action("505-0005", "hire", "505", "5000004", person_type="Honorary", effective_date="2027-02-03"),
     "hire as Honorary: accepted -> hired"),
    ("person-update-5000004", action("505-0006", "person_update", "505", "5000004", person={"MOBILE_TEL": "07700900789"}),
     "person update in a Part Records trust: kept, not sent to TIS"),
    ("withdraw-5000002", action("504-0009", "withdraw", "504", "5000002", effective_date="2026-12-01", reason="Trainee declined the post"),
     "withdraw: loaded -> withdrawn"),
    ("trac-not-recruited", {"id": "trac-0003", "source": "trac", "vpd": "504", "applicant_number": "5000006",
                            "status": "offer accepted", "checks": {"dbs": {"level": "enhanced"}}},
     "Trac before 'outcome recruited': refused"),
]


def compact(message):
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def sender_of(message):
    if isinstance(message, dict) and message.get("source") == "trac":
        return SENDERS["trac"]
    if isinstance(message, dict):
        return SENDERS.get(message.get("vpd"), SENDERS["504"])
    return SENDERS["504"]


def sqs_event(bodies, first=1):
    """bodies: (body text, SenderId) pairs."""
    records = []
    for i, (body, sender_id) in enumerate(bodies, start=first):
        records.append({
            "messageId": f"00000000-0000-4000-9000-{i:012d}",
            "receiptHandle": f"handle-{i}",
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1795266300000",
                "SenderId": sender_id,
                "ApproximateFirstReceiveTimestamp": "1795266300001",
            },
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-2:123456789012:dit-trust-messages",
            "awsRegion": "eu-west-2",
        })
    return {"Records": records}


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main():
    os.makedirs(MESSAGES, exist_ok=True)
    os.makedirs(SQS, exist_ok=True)
    by_name = {}
    sent_by = {}
    for name, message, _ in SAMPLES:
        write_json(os.path.join(MESSAGES, f"{name}.json"), message)
        by_name[name] = compact(message)
        sent_by[name] = sender_of(message)
    # Sent by trust 505's role although the body names 504.
    sent_by["sender-not-trust-504"] = SENDERS["505"]

    walkthrough = []
    for name, _, _ in SAMPLES:
        if name == "sender-not-trust-504":
            continue  # the local operator may act for any trust: shown with --as trust:505
        walkthrough.append(by_name[name])
        if name == "offer-5000001":
            walkthrough.append(by_name[name])  # delivered twice: a duplicate
    walkthrough.append("this line is not JSON")
    walkthrough.append(compact({"action": "offer", "vpd": "504", "applicant_number": "5000005"}))
    with open(os.path.join(MESSAGES, "walkthrough.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(walkthrough) + "\n")

    rotation_day = [
        action("504-rd-0001", "offer", "504", "5000011"),
        action("504-rd-0002", "accept", "504", "5000011"),
        # Refused: 5000011 is an existing employee of trust 504 (section 10).
        action("504-rd-0003", "hire", "504", "5000011", person_type="Employee"),
        action("504-rd-0004", "update_assignment", "504", "5000011", person_type="Employee"),
        # Refused: trust 504 takes its employment checks from Trac (trac = true).
        action("504-rd-0005", "record_checks", "504", "5000005", checks={
            "dbs": {"status": "clear", "completed_on": "2026-11-20"},
        }),
    ]
    with open(os.path.join(MESSAGES, "rotation-day.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(compact(m) for m in rotation_day) + "\n")

    def b_(name):
        return (by_name[name], sent_by[name])

    class Named:
        def __getitem__(self, name):
            return b_(name)

    b = Named()
    write_json(os.path.join(SQS, "offer.json"), sqs_event([b["offer-5000001"]]))
    write_json(os.path.join(SQS, "offer-delivered-twice.json"),
               sqs_event([b["offer-5000001"], b["offer-5000001"]]))
    write_json(os.path.join(SQS, "lifecycle-5000001.json"), sqs_event([
        b["offer-5000001"], b["offer-5000001-repeat"], b["accept-5000001"], b["trac-5000001"],
        b["trac-5000001-again"], b["hire-without-person-type"], b["hire-5000001"],
        b["person-update-5000001"], b["withdraw-5000001-after-hire"],
    ]))
    write_json(os.path.join(SQS, "host-employer-5000004.json"), sqs_event([
        b["offer-5000004"], b["accept-5000004"], b["hire-5000004-as-employee"],
        b["hire-5000004-honorary"], b["person-update-5000004"],
    ], first=11))
    write_json(os.path.join(SQS, "refusals.json"), sqs_event([
        b["wrong-trust"], b["unknown-applicant"], b["trac-not-recruited"],
        ("this body is not JSON", SENDERS["504"]),
        (compact({"action": "offer", "vpd": "504", "applicant_number": "5000005"}), SENDERS["504"]),
    ], first=21))
    # The trust boundary (section 7): who sent it decides, not what the body says.
    write_json(os.path.join(SQS, "boundary.json"), sqs_event([
        b["sender-not-trust-504"],
        (by_name["offer-5000001"], SENDERS["unknown"]),
        (compact({"id": "504-trac-0001", "source": "trac", "vpd": "504", "applicant_number": "5000001",
                  "status": "outcome recruited", "checks": {"dbs": {"outcome": "clear"}}}), SENDERS["504"]),
        (by_name["offer-5000001"], SENDERS["trac"]),
        (compact({"id": "trac-0004", "source": "trac", "vpd": "505", "applicant_number": "5000004",
                  "status": "outcome recruited", "checks": {"dbs": {"outcome": "clear"}}}), SENDERS["trac"]),
        (compact({"id": "504/../0001", "action": "offer", "vpd": "504", "applicant_number": "5000005"}), SENDERS["504"]),
    ], first=41))
    write_json(os.path.join(SQS, "trac-checks.json"), sqs_event([b["trac-5000001"]], first=31))
    # A withdrawal moves the retention of what is kept with the applicant (section 8): its
    # placement link and history are restamped, which the IAM audit must see trust-messages do.
    write_json(os.path.join(SQS, "withdraw-5000009.json"), sqs_event([
        (compact({"id": "504-0051", "action": "withdraw", "vpd": "504", "applicant_number": "5000009",
                  "reason": "Trainee declined the post"}), SENDERS["504"]),
    ], first=51))


if __name__ == "__main__":
    main()
