#!/usr/bin/env python3
"""Security assertions on infra/template.yaml (issue 22 items 1, 3, 8 and 9.1; issue 23; spec 7.1,
9.1, 13).

cfn-lint checks that the template is valid; these check that it says what the hardening needs:

  drops-fail-closed   the inbound bucket policy denies s3:PutObject under incoming/trusts/ to an
                      untagged principal (aws:PrincipalTag/vpd null), and to a tagged one outside
                      incoming/trusts/${aws:PrincipalTag/vpd}/; no Allow in it
  tis-principal       TisWriterPrincipalArn is required (no default, "" refused by its pattern);
                      unconditional denies: TIS's principal writes only incoming/tis/, no other
                      principal writes there
  no-session-tags     no role of the stack accepts session tags (sts:TagSession) in its trust
                      policy; a role tagged vpd would have to deny aws:RequestTag/vpd
  mfa                 every user pool: MfaConfiguration ON with SOFTWARE_TOKEN_MFA, no SMS
  threat-protection   every user pool: UserPoolTier PLUS, AdvancedSecurityMode ENFORCED
  client-email        the app clients cannot write email (WriteAttributes given, without email)
  trainee-gmc         a user pool with a trainee group declares custom attribute gmc_number
                      (String, 7 characters); every app client reads it (ReadAttributes) and
                      cannot write it (WriteAttributes given, without custom:gmc_number): only
                      administrators set whose placements a trainee sees (spec section 13)
  portal-list         every s3:ListBucket of the portal role is conditioned on s3:prefix, with
                      only the prefixes the pages list (PORTAL_LISTED below)
  csrf-secret         the CSRF key is a generated Secrets Manager secret; no function has a
                      resolved secret ({{resolve:secretsmanager|ssm-secure}}) in its environment;
                      the portal gets PORTAL_CSRF_SECRET_ARN and secretsmanager:GetSecretValue on
                      that secret only; no other role has Secrets Manager access
  quarantine-alarm    an alarm on FilesQuarantined (>= 1 in 5 minutes, missing data not breaching,
                      no dimensions, the alarm topic) in the namespace inbound-file writes its EMF
                      metric to (its METRICS_NAMESPACE)

Usage: scripts/template_checks.py [--self-test] TEMPLATE   (a step of scripts/test.sh)
--self-test also mutates an in-memory copy of the template once per weakening and checks that
each is caught by the check named for it.
"""

import copy
import re
import sys

from cfn_template import load_template



# What the portal lists (shared/portal/src: inbox.rs FOLDERS under trusts/<VPD>/, operator.rs
# FILES and SEQUENCE_CHECKS, the quarantine area): change it with the code.
PORTAL_LISTED = {
    "OutboundBucket": {
        "trusts/*/notifications/",
        "trusts/*/reports/",
        "trusts/*/medrot/",
        "operator/files/",
        "operator/schedules/sequence-check/",
    },
    "InboundBucket": {"quarantine/"},
}

TRUST_FOLDERS = "${InboundBucket.Arn}/incoming/trusts/*"
OWN_TRUST_FOLDER = "${InboundBucket.Arn}/incoming/trusts/${!aws:PrincipalTag/vpd}/*"
TIS_FOLDER = "${InboundBucket.Arn}/incoming/tis/*"
TIS_PARAMETER = "TisWriterPrincipalArn"


# ----------------------------------------------------------------------------------------------


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def sub_text(value):
    """The text of a `!Sub "..."` (or a plain string), else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return value["Fn::Sub"]
    return None


def of_type(template, kind):
    return {k: r for k, r in template.get("Resources", {}).items() if r.get("Type") == kind}


def statements_of(document):
    """(statement, conditional) for each statement; `conditional` when inside an Fn::If."""
    found = []
    for item in as_list((document or {}).get("Statement")):
        if isinstance(item, dict) and "Fn::If" in item:
            for branch in item["Fn::If"][1:]:
                if isinstance(branch, dict) and "Effect" in branch:
                    found.append((branch, True))
        elif isinstance(item, dict):
            found.append((item, False))
    return found


def role_statements(role):
    found = []
    for policy in as_list(role.get("Properties", {}).get("Policies")):
        found.extend(s for s, _ in statements_of(policy.get("PolicyDocument")))
    return found


def actions(statement):
    return {a.lower() for a in as_list(statement.get("Action"))}


def is_deny_put(statement):
    return (statement.get("Effect") == "Deny" and statement.get("Principal") == "*"
            and actions(statement) & {"s3:putobject", "s3:*"})


def inbound_policy(template):
    for resource in of_type(template, "AWS::S3::BucketPolicy").values():
        if resource["Properties"].get("Bucket") == {"Ref": "InboundBucket"}:
            return resource["Properties"]["PolicyDocument"]
    return None


# ----------------------------------------------------------------------------------------------
# The checks: each returns what is wrong (empty when right).
# ----------------------------------------------------------------------------------------------


def check_drops_fail_closed(template):
    policy = inbound_policy(template)
    if policy is None:
        return ["no bucket policy on InboundBucket"]
    problems = []
    statements = statements_of(policy)
    untagged = [s for s, conditional in statements if not conditional and is_deny_put(s)
                and TRUST_FOLDERS in [sub_text(r) for r in as_list(s.get("Resource"))]
                and str(s.get("Condition", {}).get("Null", {}).get("aws:PrincipalTag/vpd")).lower()
                == "true"]
    if not untagged:
        problems.append("no unconditional Deny of s3:PutObject on incoming/trusts/* when "
                        "aws:PrincipalTag/vpd is null (an untagged principal could drop a trust's file)")
    tagged = [s for s, conditional in statements if not conditional and is_deny_put(s)
              and [sub_text(r) for r in as_list(s.get("NotResource"))] == [OWN_TRUST_FOLDER]
              and str(s.get("Condition", {}).get("Null", {}).get("aws:PrincipalTag/vpd")).lower()
              == "false"]
    if not tagged:
        problems.append("no Deny of s3:PutObject outside incoming/trusts/${aws:PrincipalTag/vpd}/ "
                        "for a tagged principal")
    allows = [s.get("Sid", "?") for s, _ in statements if s.get("Effect") == "Allow"]
    if allows:
        problems.append(f"the inbound bucket policy allows something: {allows}")
    return problems


def check_tis_principal(template):
    problems = []
    parameter = template.get("Parameters", {}).get(TIS_PARAMETER)
    if parameter is None:
        return [f"no parameter {TIS_PARAMETER}"]
    if "Default" in parameter:
        problems.append(f"{TIS_PARAMETER} has a default ({parameter['Default']!r}): it must be required")
    pattern = parameter.get("AllowedPattern")
    if not pattern:
        problems.append(f"{TIS_PARAMETER} has no AllowedPattern (an empty value would be accepted)")
    elif re.fullmatch(pattern, ""):
        problems.append(f"{TIS_PARAMETER}'s AllowedPattern accepts an empty value")
    policy = inbound_policy(template) or {}
    principal = {"Ref": TIS_PARAMETER}
    statements = statements_of(policy)

    def tis_deny(kind, operator, resource):
        return [(s, conditional) for s, conditional in statements if is_deny_put(s)
                and [sub_text(r) for r in as_list(s.get(kind))] == [resource]
                and s.get("Condition", {}).get(operator, {}).get("aws:PrincipalArn") == principal]

    for kind, operator, what in (
            ("NotResource", "ArnEquals", "TIS's principal writing outside incoming/tis/"),
            ("Resource", "ArnNotEquals", "another principal writing under incoming/tis/")):
        found = tis_deny(kind, operator, TIS_FOLDER)
        if not found:
            problems.append(f"no Deny of {what}")
        elif all(conditional for _, conditional in found):
            problems.append(f"the Deny of {what} is conditional (Fn::If): it must always apply")
    for name, condition in template.get("Conditions", {}).items():
        if {"Ref": TIS_PARAMETER} in _walk(condition):
            problems.append(f"condition {name} depends on {TIS_PARAMETER}: the TIS denies must not be optional")
    return problems


def _walk(node):
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def check_no_session_tags(template):
    problems = []
    for name, role in of_type(template, "AWS::IAM::Role").items():
        props = role.get("Properties", {})
        tagged_vpd = any(t.get("Key") == "vpd" for t in as_list(props.get("Tags")))
        trust = statements_of(props.get("AssumeRolePolicyDocument"))
        allows_tags = [s for s, _ in trust if s.get("Effect") == "Allow"
                       and actions(s) & {"sts:tagsession", "sts:*", "*"}]
        denies_vpd = [s for s, _ in trust if s.get("Effect") == "Deny"
                      and "sts:tagsession" in actions(s)
                      and "aws:RequestTag/vpd" in str(s.get("Condition", {}))]
        if allows_tags and not denies_vpd:
            problems.append(f"{name}'s trust policy allows sts:TagSession")
        if tagged_vpd and not denies_vpd:
            problems.append(f"{name} is tagged vpd but its trust policy does not deny "
                            "sts:TagSession with aws:RequestTag/vpd")
    return problems


def check_mfa(template):
    problems = []
    pools = of_type(template, "AWS::Cognito::UserPool")
    if not pools:
        return ["no Cognito user pool"]
    for name, pool in pools.items():
        props = pool.get("Properties", {})
        if props.get("MfaConfiguration") != "ON":
            problems.append(f"{name}: MfaConfiguration is {props.get('MfaConfiguration')!r}, not 'ON'")
        mfas = as_list(props.get("EnabledMfas"))
        if "SOFTWARE_TOKEN_MFA" not in mfas:
            problems.append(f"{name}: SOFTWARE_TOKEN_MFA is not enabled")
        if "SMS_MFA" in mfas:
            problems.append(f"{name}: SMS MFA is enabled")
    return problems


def check_threat_protection(template):
    problems = []
    for name, pool in of_type(template, "AWS::Cognito::UserPool").items():
        props = pool.get("Properties", {})
        if props.get("UserPoolTier") != "PLUS":
            problems.append(f"{name}: UserPoolTier is {props.get('UserPoolTier')!r} (threat "
                            "protection needs PLUS)")
        mode = props.get("UserPoolAddOns", {}).get("AdvancedSecurityMode")
        if mode != "ENFORCED":
            problems.append(f"{name}: AdvancedSecurityMode is {mode!r}, not 'ENFORCED'")
    return problems


def check_client_email(template):
    problems = []
    for name, client in of_type(template, "AWS::Cognito::UserPoolClient").items():
        writable = client.get("Properties", {}).get("WriteAttributes")
        if writable is None:
            problems.append(f"{name}: no WriteAttributes (every attribute, e-mail too, is writable)")
        elif "email" in as_list(writable):
            problems.append(f"{name}: users can change their e-mail through this client")
    return problems


GMC_ATTRIBUTE = "gmc_number"


def check_trainee_gmc(template):
    problems = []
    groups = of_type(template, "AWS::Cognito::UserPoolGroup")
    if not any(g.get("Properties", {}).get("GroupName") == "trainee" for g in groups.values()):
        problems.append("no trainee group")
    for name, pool in of_type(template, "AWS::Cognito::UserPool").items():
        schema = as_list(pool.get("Properties", {}).get("Schema"))
        attribute = next((a for a in schema if isinstance(a, dict)
                          and a.get("Name") == GMC_ATTRIBUTE), None)
        if attribute is None:
            problems.append(f"{name}: no custom attribute {GMC_ATTRIBUTE}")
            continue
        if attribute.get("AttributeDataType") != "String":
            problems.append(f"{name}: {GMC_ATTRIBUTE} is not a String")
        limits = attribute.get("StringAttributeConstraints", {})
        if str(limits.get("MinLength")) != "7" or str(limits.get("MaxLength")) != "7":
            problems.append(f"{name}: {GMC_ATTRIBUTE} is not limited to 7 characters")
    for name, client in of_type(template, "AWS::Cognito::UserPoolClient").items():
        props = client.get("Properties", {})
        writable = props.get("WriteAttributes")
        claim = f"custom:{GMC_ATTRIBUTE}"
        if writable is None:
            problems.append(f"{name}: no WriteAttributes (users could write {claim})")
        elif claim in as_list(writable):
            problems.append(f"{name}: users can change their own {claim}")
        if claim not in as_list(props.get("ReadAttributes")):
            problems.append(f"{name}: {claim} is not read into the token")
    return problems


def check_portal_list(template):
    role = template.get("Resources", {}).get("PortalFunctionRole")
    if role is None:
        return ["no PortalFunctionRole"]
    problems = []
    listing = [s for s in role_statements(role) if s.get("Effect") == "Allow"
               and actions(s) & {"s3:listbucket", "s3:*", "*"}]
    if not listing:
        problems.append("the portal role has no s3:ListBucket (a missing object would be 403)")
    for statement in listing:
        sid = statement.get("Sid", "?")
        if actions(statement) & {"s3:*", "*"}:
            problems.append(f"{sid}: a wildcard action includes s3:ListBucket")
        prefixes = None
        for operator, keys in statement.get("Condition", {}).items():
            if operator in ("StringLike", "StringEquals") and "s3:prefix" in keys:
                prefixes = set(as_list(keys["s3:prefix"]))
        if not prefixes:
            problems.append(f"{sid}: s3:ListBucket without an s3:prefix condition (lists every key)")
            continue
        for resource in as_list(statement.get("Resource")):
            bucket = resource.get("Fn::GetAtt", [None])[0] if isinstance(resource, dict) else None
            served = PORTAL_LISTED.get(bucket)
            if served is None:
                problems.append(f"{sid}: lists {resource}, which the portal does not list")
            elif prefixes - served:
                problems.append(f"{sid}: lists {sorted(prefixes - served)} in {bucket}, "
                                f"beyond what the portal lists ({sorted(served)})")
    return problems


def check_csrf_secret(template):
    problems = []
    resources = template.get("Resources", {})
    secret = resources.get("PortalCsrfSecret", {})
    if secret.get("Type") != "AWS::SecretsManager::Secret" or "GenerateSecretString" not in secret.get(
            "Properties", {}):
        problems.append("PortalCsrfSecret is not a Secrets Manager secret the template generates")
    functions = {**of_type(template, "AWS::Serverless::Function"),
                 **of_type(template, "AWS::Lambda::Function")}
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get(
        "Variables", {})
    for name, function in [("Globals", {"Properties": {"Environment": {"Variables": globals_env}}}),
                           *functions.items()]:
        variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
        for key, value in variables.items():
            text = repr(value)
            if "{{resolve:secretsmanager" in text or "{{resolve:ssm-secure" in text:
                problems.append(f"{name}: {key} holds a secret's value in plain environment")
            if "PortalCsrfSecret" in text and value != {"Ref": "PortalCsrfSecret"}:
                problems.append(f"{name}: {key} is derived from the secret, not its ARN")
    portal_env = functions.get("PortalFunction", {}).get("Properties", {}).get(
        "Environment", {}).get("Variables", {})
    if portal_env.get("PORTAL_CSRF_SECRET_ARN") != {"Ref": "PortalCsrfSecret"}:
        problems.append("PortalFunction has no PORTAL_CSRF_SECRET_ARN: !Ref PortalCsrfSecret")
    for name, role in of_type(template, "AWS::IAM::Role").items():
        for statement in role_statements(role):
            secret_actions = {a for a in actions(statement) if a.startswith("secretsmanager:")}
            if statement.get("Effect") != "Allow" or not secret_actions:
                continue
            sid = f"{name}/{statement.get('Sid', '?')}"
            if name != "PortalFunctionRole":
                problems.append(f"{sid}: only the portal role may read the CSRF secret")
            if secret_actions != {"secretsmanager:getsecretvalue"}:
                problems.append(f"{sid}: Secrets Manager actions beyond GetSecretValue: {sorted(secret_actions)}")
            if as_list(statement.get("Resource")) != [{"Ref": "PortalCsrfSecret"}]:
                problems.append(f"{sid}: GetSecretValue on {statement.get('Resource')}, not the CSRF secret only")
    reads = [s for s in role_statements(resources.get("PortalFunctionRole", {}))
             if s.get("Effect") == "Allow" and "secretsmanager:getsecretvalue" in actions(s)]
    if not reads:
        problems.append("the portal role cannot read its CSRF secret (secretsmanager:GetSecretValue)")
    return problems


QUARANTINE_METRIC = "FilesQuarantined"


def check_quarantine_alarm(template):
    functions = of_type(template, "AWS::Serverless::Function")
    env = functions.get("InboundFileFunction", {}).get("Properties", {}).get(
        "Environment", {}).get("Variables", {})
    namespace = env.get("METRICS_NAMESPACE")
    if namespace is None:
        return ["InboundFileFunction has no METRICS_NAMESPACE: its metric's namespace is unknown"]
    alarms = {name: a.get("Properties", {})
              for name, a in of_type(template, "AWS::CloudWatch::Alarm").items()
              if a.get("Properties", {}).get("MetricName") == QUARANTINE_METRIC}
    if not alarms:
        return [f"no alarm on {QUARANTINE_METRIC}"]
    problems = []
    for name, alarm in alarms.items():
        if alarm.get("Namespace") != namespace:
            problems.append(f"{name}: namespace {alarm.get('Namespace')} is not inbound-file's {namespace}")
        if alarm.get("Dimensions"):
            problems.append(f"{name}: dimensions limit it to some local offices")
        if alarm.get("Statistic") != "Sum" or int(alarm.get("Period", 0)) > 300:
            problems.append(f"{name}: not the Sum over at most 5 minutes")
        if not (alarm.get("ComparisonOperator") == "GreaterThanOrEqualToThreshold"
                and float(alarm.get("Threshold", 2)) <= 1):
            problems.append(f"{name}: does not fire on one quarantined file")
        if alarm.get("TreatMissingData") != "notBreaching":
            problems.append(f"{name}: TreatMissingData is not notBreaching")
        if "AlarmTopicArn" not in repr(alarm.get("AlarmActions")):
            problems.append(f"{name}: no action on the alarm topic")
    return problems


CHECKS = {
    "drops-fail-closed": check_drops_fail_closed,
    "tis-principal": check_tis_principal,
    "no-session-tags": check_no_session_tags,
    "mfa": check_mfa,
    "threat-protection": check_threat_protection,
    "client-email": check_client_email,
    "trainee-gmc": check_trainee_gmc,
    "portal-list": check_portal_list,
    "csrf-secret": check_csrf_secret,
    "quarantine-alarm": check_quarantine_alarm,
}


def run(template):
    return {name: check(template) for name, check in CHECKS.items()}


# ----------------------------------------------------------------------------------------------
# Self-test: each weakening of the template must be caught by its check.
# ----------------------------------------------------------------------------------------------


def _policy_statements(t):
    return inbound_policy(t)["Statement"]


def _drop_sid(statements, sid):
    kept = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") == sid)]
    assert len(kept) == len(statements) - 1, f"no statement {sid} to mutate"
    statements[:] = kept


def _statement(t, sid):
    for s in _policy_statements(t):
        if isinstance(s, dict) and s.get("Sid") == sid:
            return s
    raise AssertionError(f"no statement {sid} to mutate")


def _portal_statement(t, sid):
    for s in role_statements(t["Resources"]["PortalFunctionRole"]):
        if s.get("Sid") == sid:
            return s
    raise AssertionError(f"no portal statement {sid} to mutate")


def _pool(t):
    return t["Resources"]["PortalUserPool"]["Properties"]


def _portal_env(t):
    return t["Resources"]["PortalFunction"]["Properties"]["Environment"]["Variables"]


def _conditional_tis(t):
    statements = _policy_statements(t)
    index = next(i for i, s in enumerate(statements) if s.get("Sid") == "OnlyTisWritesTisFolder")
    statements[index] = {"Fn::If": ["HasTisWriter", statements[index], {"Ref": "AWS::NoValue"}]}
    t["Conditions"]["HasTisWriter"] = {"Fn::Not": [{"Fn::Equals": [{"Ref": TIS_PARAMETER}, ""]}]}


def _allow_session_tags(t):
    role = t["Resources"]["PortalFunctionRole"]["Properties"]["AssumeRolePolicyDocument"]
    role["Statement"][0]["Action"] = ["sts:AssumeRole", "sts:TagSession"]


def _tagged_trust_role(t):
    t["Resources"]["TrustRole504"] = {"Type": "AWS::IAM::Role", "Properties": {
        "Tags": [{"Key": "vpd", "Value": "504"}],
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": "sts:AssumeRole"}]}}}


def _quarantine_alarm(t):
    return t["Resources"]["InboundFileQuarantineAlarm"]["Properties"]


def _other_role_reads_secret(t):
    statements = t["Resources"]["InboundFileFunctionRole"]["Properties"]["Policies"][0][
        "PolicyDocument"]["Statement"]
    statements.append({"Sid": "Csrf", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                       "Resource": {"Ref": "PortalCsrfSecret"}})


MUTATIONS = [
    ("remove the null-tag deny", "drops-fail-closed",
     lambda t: _drop_sid(_policy_statements(t), "UntaggedPrincipalsWriteNoTrustFolder")),
    ("remove the tagged principal's own-folder deny", "drops-fail-closed",
     lambda t: _drop_sid(_policy_statements(t), "TrustsWriteOnlyTheirOwnFolder")),
    ("the null-tag deny on the wrong prefix", "drops-fail-closed",
     lambda t: _statement(t, "UntaggedPrincipalsWriteNoTrustFolder").update(
         Resource={"Fn::Sub": "${InboundBucket.Arn}/incoming/trust/*"})),
    ("an Allow in the inbound bucket policy", "drops-fail-closed",
     lambda t: _policy_statements(t).append({"Sid": "Open", "Effect": "Allow", "Principal": "*",
                                             "Action": "s3:PutObject", "Resource": "*"})),
    ("a default for TisWriterPrincipalArn", "tis-principal",
     lambda t: t["Parameters"][TIS_PARAMETER].update(Default="")),
    ("TisWriterPrincipalArn's pattern accepts empty", "tis-principal",
     lambda t: t["Parameters"][TIS_PARAMETER].update(AllowedPattern="^$|^arn:.*$")),
    ("remove the deny of others under incoming/tis/", "tis-principal",
     lambda t: _drop_sid(_policy_statements(t), "OnlyTisWritesTisFolder")),
    ("remove the deny of TIS outside incoming/tis/", "tis-principal",
     lambda t: _drop_sid(_policy_statements(t), "TisWritesOnlyItsFolder")),
    ("the TIS deny made conditional (Fn::If)", "tis-principal", _conditional_tis),
    ("a role's trust policy allows sts:TagSession", "no-session-tags", _allow_session_tags),
    ("a role tagged vpd that accepts any session tag", "no-session-tags", _tagged_trust_role),
    ("MFA OFF", "mfa", lambda t: _pool(t).update(MfaConfiguration="OFF")),
    ("MFA OPTIONAL", "mfa", lambda t: _pool(t).update(MfaConfiguration="OPTIONAL")),
    ("SMS MFA instead of TOTP", "mfa", lambda t: _pool(t).update(EnabledMfas=["SMS_MFA"])),
    ("threat protection AUDIT only", "threat-protection",
     lambda t: _pool(t)["UserPoolAddOns"].update(AdvancedSecurityMode="AUDIT")),
    ("the Essentials plan", "threat-protection", lambda t: _pool(t).update(UserPoolTier="ESSENTIALS")),
    ("the app client writes every attribute", "client-email",
     lambda t: t["Resources"]["PortalUserPoolClient"]["Properties"].pop("WriteAttributes")),
    ("the app client writes email", "client-email",
     lambda t: t["Resources"]["PortalUserPoolClient"]["Properties"].update(
         WriteAttributes=["email"])),
    ("the app client lets users write their GMC number", "trainee-gmc",
     lambda t: t["Resources"]["PortalUserPoolClient"]["Properties"]["WriteAttributes"].append(
         "custom:gmc_number")),
    ("the GMC number not in the token", "trainee-gmc",
     lambda t: t["Resources"]["PortalUserPoolClient"]["Properties"]["ReadAttributes"].remove(
         "custom:gmc_number")),
    ("no gmc_number attribute", "trainee-gmc", lambda t: _pool(t).pop("Schema")),
    ("no trainee group", "trainee-gmc", lambda t: t["Resources"].pop("PortalTraineeGroup")),
    ("drop the prefix condition", "portal-list",
     lambda t: _portal_statement(t, "ListServedPrefixes").pop("Condition")),
    ("list every prefix (s3:prefix *)", "portal-list",
     lambda t: _portal_statement(t, "ListServedPrefixes")["Condition"]["StringLike"].update(
         {"s3:prefix": ["*"]})),
    ("list the quarantine's bucket from the root", "portal-list",
     lambda t: _portal_statement(t, "ListQuarantine")["Condition"]["StringEquals"].update(
         {"s3:prefix": ["", "quarantine/"]})),
    ("the secret in plain env", "csrf-secret",
     lambda t: _portal_env(t).update(PORTAL_CSRF_SECRET={
         "Fn::Sub": "{{resolve:secretsmanager:${PortalCsrfSecret}:SecretString}}"})),
    ("the secret's ARN gone from the environment", "csrf-secret",
     lambda t: _portal_env(t).pop("PORTAL_CSRF_SECRET_ARN")),
    ("GetSecretValue on every secret", "csrf-secret",
     lambda t: _portal_statement(t, "CsrfKey").update(Resource="*")),
    ("another role reads the secret", "csrf-secret", _other_role_reads_secret),
    ("the secret not generated", "csrf-secret",
     lambda t: t["Resources"]["PortalCsrfSecret"]["Properties"].pop("GenerateSecretString")),
    ("remove the quarantine alarm", "quarantine-alarm",
     lambda t: t["Resources"].pop("InboundFileQuarantineAlarm")),
    ("the alarm in another namespace", "quarantine-alarm",
     lambda t: _quarantine_alarm(t).update(Namespace="DoctorsInTraining")),
    ("the alarm on one local office only", "quarantine-alarm",
     lambda t: _quarantine_alarm(t).update(Dimensions=[{"Name": "LocalOffice", "Value": "KSS"}])),
    ("the alarm waits for two files", "quarantine-alarm",
     lambda t: _quarantine_alarm(t).update(Threshold=2)),
    ("no metrics namespace for inbound-file", "quarantine-alarm",
     lambda t: t["Resources"]["InboundFileFunction"]["Properties"]["Environment"][
         "Variables"].pop("METRICS_NAMESPACE")),
]


def self_test(template):
    failures = []
    for what, check, mutate in MUTATIONS:
        mutated = copy.deepcopy(template)
        mutate(mutated)
        found = CHECKS[check](mutated)
        if found:
            print(f"self-test: {what}: caught by {check} ({found[0]})")
        else:
            failures.append(f"{what}: not caught by {check}")
    return failures


def main(argv):
    args = [a for a in argv if a != "--self-test"]
    if len(args) != 1:
        sys.exit(__doc__)
    template = load_template(args[0])
    failed = False
    for name, problems in run(template).items():
        if problems:
            failed = True
            for problem in problems:
                print(f"FAIL {name}: {problem}")
        else:
            print(f"ok   {name}")
    if "--self-test" in argv:
        missed = self_test(template)
        for miss in missed:
            print(f"SELF-TEST FAIL: {miss}")
        failed = failed or bool(missed)
        if not missed:
            print(f"self-test: all {len(MUTATIONS)} mutations caught")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
