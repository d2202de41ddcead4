#!/usr/bin/env python3
"""Least privilege, checked (issue 9 item 6; the portal since issue 22 item 8): each function's
IAM role in infra/template.yaml against what its code asked of AWS when the tests ran it on moto (tests/it/iam_audit.rs writes
<dir>/<function>.json: the IAM actions of its requests and the partition key kinds it wrote).

Fails when a function uses an action or writes a key kind its role does not grant (it would be
refused in AWS), or when its role grants an action or key kind it never used (unused privilege).
Actions the Lambda service takes with the role (logs, the SQS event source, the on-failure
destination) are listed below as the platform's, not the code's.

Usage: scripts/iam_audit.py [--self-test] TEMPLATE DIR   (run by scripts/test.sh after cargo test)
--self-test also checks that the audit catches each kind of mismatch in a mutated template.
"""

import copy
import json
import os
import sys

from cfnlint.decode import cfn_yaml

# Function -> its role's logical id.
ROLES = {
    "inbound-file": "InboundFileFunctionRole",
    "trust-messages": "TrustMessagesFunctionRole",
    "scheduled-jobs": "ScheduledJobsFunctionRole",
    "portal": "PortalFunctionRole",
}

# Used by the Lambda service with the function's role, never by the function's code.
PLATFORM = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    # The SQS event source mapping polls and deletes with the role.
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
}

# Granted for a reason the tests cannot show on moto; each names why.
EXPLAINED = {
    # A HEAD of an object (or version) that is not there answers 404 only with ListBucket (403
    # without): a redelivered notification of a moved file must read as "already handled".
    ("inbound-file", "s3:ListBucket"): "404 instead of 403 for a missing object",
    ("trust-messages", "s3:ListBucket"): "404 instead of 403 for a missing answer",
    # scheduled-jobs: Lambda's on-failure destination sends with the function's role.
    ("scheduled-jobs", "sqs:SendMessage"): "the on-failure destination (EventInvokeConfig)",
    # organisations.toml is read at a cold start (LambdaConfig::connect), before any handler.
    ("inbound-file", "s3:GetObject"): "organisations.toml at a cold start",
    ("scheduled-jobs", "s3:GetObject"): "organisations.toml at a cold start",
    # Failure paths the samples do not take: an alert sent-marker released when SES refuses the
    # mail (both); a position no longer sent to TIS leaves the TIS view (scheduled-jobs).
    ("inbound-file", "dynamodb:DeleteItem"): "alert marker released when SES refuses",
    ("scheduled-jobs", "dynamodb:DeleteItem"): "alert marker released; TIS view row removed",
    ("portal", "dynamodb:DeleteItem"): "alert marker released when SES refuses",
    # The portal's CSRF key, read once at a cold start (tests/it/portal_secret.rs, on moto).
    ("portal", "secretsmanager:GetSecretValue"): "the CSRF key at a cold start",
}

# Key kinds a role may write on a path the samples do not take; each names why.
EXPLAINED_KEYS = {
    # A move that changes an applicant's retention re-stamps its person updates' TTL
    # (DynamoStore::restamp); no applicant of the samples that the portal can move has one.
    ("portal", "PERSONUPDATE#*"): "a move re-stamps the applicant's person updates",
}


def statements(role):
    """The role's statements, both sides of every Fn::If (conditions decide at deploy time)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if "Fn::If" in node:
                for branch in node["Fn::If"][1:]:
                    walk(branch)
            elif "Effect" in node:
                found.append(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for policy in role["Properties"].get("Policies", []):
        walk(policy["PolicyDocument"]["Statement"])
    return found


def as_list(value):
    return value if isinstance(value, list) else [value]


def granted(role):
    """(actions, leading key patterns of the write statements) the role allows."""
    actions, leading = set(), set()
    for statement in statements(role):
        if statement.get("Effect") != "Allow":
            continue
        these = set(as_list(statement["Action"]))
        actions |= these
        condition = statement.get("Condition", {})
        for operator, tests in condition.items():
            keys = tests.get("dynamodb:LeadingKeys") if isinstance(tests, dict) else None
            if keys is not None:
                leading |= set(as_list(keys))
    return actions, leading


def writes_unbounded(role):
    """DynamoDB write actions granted without a LeadingKeys condition."""
    loose = set()
    for statement in statements(role):
        actions = set(as_list(statement["Action"]))
        writes = {a for a in actions if a in (
            "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem")}
        leading = [t for t in statement.get("Condition", {}).values()
                   if isinstance(t, dict) and "dynamodb:LeadingKeys" in t]
        if writes and not leading:
            loose |= writes
    return loose


def matches(kind, pattern):
    """A key kind (`APPLICANT#`) against a StringLike pattern (`APPLICANT#*`)."""
    return pattern.endswith("*") and kind == pattern[:-1]


def audit(resources, observed):
    """The problems of each audited role against `observed` ({function: {"actions": [...],
    "leading_keys": [...]}}), and a line per function of what it used."""
    problems, summary = [], []
    for function, role_id in ROLES.items():
        if function not in observed:
            problems.append(f"{function}: no record of its requests "
                            "(run cargo test -p dit-tests --test it iam_audit first)")
            continue
        used = set(observed[function].get("actions", []))
        kinds = set(observed[function].get("leading_keys", []))
        actions, leading = granted(resources[role_id])
        for action in sorted(used - actions):
            problems.append(f"{function}: uses {action}, which {role_id} does not grant")
        for action in sorted(actions - used - PLATFORM):
            if (function, action) not in EXPLAINED:
                problems.append(f"{function}: {role_id} grants {action}, never used")
        for kind in sorted(kinds):
            if not any(matches(kind, p) for p in leading):
                problems.append(f"{function}: writes {kind}... items, "
                                "not in its dynamodb:LeadingKeys")
        for pattern in sorted(leading):
            if (function, pattern) in EXPLAINED_KEYS:
                continue
            if not any(matches(kind, pattern) for kind in kinds):
                problems.append(f"{function}: dynamodb:LeadingKeys {pattern} never written")
        for action in sorted(writes_unbounded(resources[role_id])):
            problems.append(f"{function}: {action} granted without dynamodb:LeadingKeys")
        summary.append(f"{function}: {len(used)} actions used, {len(kinds)} key kinds written: "
                       f"{', '.join(sorted(kinds))}")
    return problems, summary


def read_observed(directory):
    observed = {}
    for function in ROLES:
        path = os.path.join(directory, f"{function}.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                observed[function] = json.load(f)
    return observed


def self_test(resources, observed):
    """The audit must catch each kind of mismatch: one mutated copy of the template per case."""
    def statement(mutated, role_id, sid):
        return next(s for s in statements(mutated[role_id]) if s.get("Sid") == sid)

    def leading_keys(mutated, role_id, sid):
        return statement(mutated, role_id, sid)["Condition"]["ForAllValues:StringLike"][
            "dynamodb:LeadingKeys"]

    cases = [
        ("inbound-file: writes ROTATION#... items, not in its dynamodb:LeadingKeys",
         lambda r: leading_keys(r, "InboundFileFunctionRole", "StateWrite").remove("ROTATION#*")),
        ("trust-messages: TrustMessagesFunctionRole grants dynamodb:Scan, never used",
         lambda r: statement(r, "TrustMessagesFunctionRole", "StateRead")["Action"].append(
             "dynamodb:Scan")),
        ("inbound-file: uses s3:GetObjectVersion, which InboundFileFunctionRole does not grant",
         lambda r: statement(r, "InboundFileFunctionRole", "ReceivedObjects")["Action"].remove(
             "s3:GetObjectVersion")),
        ("scheduled-jobs: dynamodb:PutItem granted without dynamodb:LeadingKeys",
         lambda r: statement(r, "ScheduledJobsFunctionRole", "StateTableWrites").pop(
             "Condition")),
        ("portal: PortalFunctionRole grants dynamodb:BatchWriteItem, never used",
         lambda r: statement(r, "PortalFunctionRole", "StateWrite")["Action"].append(
             "dynamodb:BatchWriteItem")),
        ("portal: uses s3:PutObject, which PortalFunctionRole does not grant",
         lambda r: statement(r, "PortalFunctionRole", "Answers").update(
             Action="s3:GetObjectTagging")),
        ("trust-messages: dynamodb:LeadingKeys READ#* never written",
         lambda r: leading_keys(r, "TrustMessagesFunctionRole", "StateWrite").append("READ#*")),
    ]
    failed = []
    for expected, mutate in cases:
        mutated = copy.deepcopy(resources)
        mutate(mutated)
        problems, _ = audit(mutated, observed)
        if expected not in problems:
            failed.append(f"self-test: expected {expected!r}, got {problems}")
    return failed


def main(template_path, directory, run_self_test):
    resources = cfn_yaml.load(template_path)["Resources"]
    observed = read_observed(directory)
    problems, summary = audit(resources, observed)
    print("\n".join(summary))
    if run_self_test and not problems:
        problems = self_test(resources, observed)
        if not problems:
            print("IAM audit self-test: each kind of mismatch is caught.")
    if problems:
        print("\n".join(problems))
        return 1
    print("IAM audit: every role grants exactly what its function uses.")
    return 0


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--self-test"]
    if len(arguments) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(arguments[0], arguments[1], "--self-test" in sys.argv[1:]))
