#!/usr/bin/env python3
"""Least privilege, checked (issue 9 item 6): each function's IAM role in infra/template.yaml
against what its code asked of AWS when the tests ran it on moto (tests/tests/iam_audit.rs writes
<dir>/<function>.json: the IAM actions of its requests and the partition key kinds it wrote).

Fails when a function uses an action or writes a key kind its role does not grant (it would be
refused in AWS), or when its role grants an action or key kind it never used (unused privilege).
Actions the Lambda service takes with the role (logs, the SQS event source, the on-failure
destination) are listed below as the platform's, not the code's.

Usage: scripts/iam_audit.py TEMPLATE DIR   (run by scripts/test.sh after cargo test)
"""

import json
import os
import sys

from cfnlint.decode import cfn_yaml

# Function -> its role's logical id.
ROLES = {
    "inbound-file": "InboundFileFunctionRole",
    "trust-messages": "TrustMessagesFunctionRole",
    "scheduled-jobs": "ScheduledJobsFunctionRole",
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


def main(template_path, directory):
    template = cfn_yaml.load(template_path)
    resources = template["Resources"]
    problems = []
    for function, role_id in ROLES.items():
        path = os.path.join(directory, f"{function}.json")
        if not os.path.exists(path):
            problems.append(f"{function}: no record of its requests at {path} "
                            "(run cargo test --test iam_audit first)")
            continue
        with open(path, encoding="utf-8") as f:
            observed = json.load(f)
        used = set(observed.get("actions", []))
        kinds = set(observed.get("leading_keys", []))
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
            if not any(matches(kind, pattern) for kind in kinds):
                problems.append(f"{function}: dynamodb:LeadingKeys {pattern} never written")
        for action in sorted(writes_unbounded(resources[role_id])):
            problems.append(f"{function}: {action} granted without dynamodb:LeadingKeys")
        print(f"{function}: {len(used)} actions used, {len(kinds)} key kinds written: "
              f"{', '.join(sorted(kinds))}")
    if problems:
        print("\n".join(problems))
        return 1
    print("IAM audit: every role grants exactly what its function uses.")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
