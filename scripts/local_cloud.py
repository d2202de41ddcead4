#!/usr/bin/env python3
"""The AWS side of scripts/local-cloud.sh: reads infra/template.yaml and creates its buckets,
queues (with their redrive policies), table (with its indexes) and the S3 -> SQS notification on
an emulator (moto_server or LocalStack), then drops files, sends messages and reports depths.

Everything the local stack has comes from the template, so the local stack cannot drift from the
deployed one. Needs boto3 and PyYAML (both come with moto[server] and cfn-lint in the project's
virtualenv, see scripts/test.sh).

Subcommands (the shell script passes --state, the directory holding stack.json):
  stack     create the resources, upload the organisations config, write stack.json and env
  drop      upload files under the inbound prefix of the notification
  send      send JSON messages (a .json file is one message, a .jsonl file one per line)
  payloads  the scheduler payloads of every schedule for a business date (one JSON per line)
  wait      until the event-source queues are empty (nothing visible, nothing in flight)
  status    queue and dead-letter-queue depths, objects in the buckets
  pull      download a bucket (inbound or outbound) into a directory
"""

import argparse
import datetime
import json
import os
import re
import sys
import time
import zoneinfo

import boto3

from cfn_template import load_template

# moto stamps every message with this SenderId (sqs/models.py DEFAULT_SENDER_ID), whatever the
# credentials; LocalStack uses the access key's account. A [[sender]] entry for local use names it.
MOTO_SENDER_ID = "AIDAIT2UOQQY3AUEKVGXU"



class Stack:
    """Resolves the template's intrinsics for a local stack (names derived from the stack name)."""

    def __init__(self, template, name, account, region, parameters):
        self.template = template
        self.name = name
        self.account = account
        self.region = region
        self.resources = template["Resources"]
        declared = template.get("Parameters", {})
        # As CloudFormation: a parameter without a default must be given.
        missing = sorted(key for key, spec in declared.items()
                         if "Default" not in spec and key not in parameters)
        if missing:
            raise SystemExit(f"the template's required parameters are not given: {', '.join(missing)}")
        self.parameters = {key: str(spec["Default"]) for key, spec in declared.items()
                           if "Default" in spec}
        self.parameters.update(parameters)
        self.conditions = template.get("Conditions", {})

    def pseudo(self, name):
        return {
            "AWS::StackName": self.name,
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }.get(name)

    def physical_name(self, logical):
        """The name CloudFormation would generate (without its random suffix), or the one given."""
        resource = self.resources[logical]
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::S3::Bucket" and "BucketName" in props:
            return self.resolve(props["BucketName"])
        if kind == "AWS::SQS::Queue" and "QueueName" in props:
            return self.resolve(props["QueueName"])
        if kind == "AWS::DynamoDB::Table" and "TableName" in props:
            return self.resolve(props["TableName"])
        return f"{self.name}-{logical}"

    def arn(self, logical):
        kind = self.resources[logical]["Type"]
        name = self.physical_name(logical)
        if kind == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{self.region}:{self.account}:{name}"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{name}"
        if kind == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{name}"
        return f"arn:aws:local:{self.region}:{self.account}:{logical}"

    def ref(self, name):
        if name in self.parameters:
            return self.parameters[name]
        if name == "AWS::NoValue":
            return None
        if name.startswith("AWS::"):
            return self.pseudo(name)
        kind = self.resources[name]["Type"]
        if kind == "AWS::SQS::Queue":
            return {"QueueUrlOf": self.physical_name(name)}
        return self.physical_name(name)

    def get_att(self, logical, attribute):
        if attribute == "Arn":
            return self.arn(logical)
        if attribute == "QueueName":
            return self.physical_name(logical)
        return f"{logical}.{attribute}"

    def condition(self, name):
        return bool(self.resolve(self.conditions[name]))

    def resolve(self, value):
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not None]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.get_att(arg[0], arg[1])
            if key == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

                def substitute(match):
                    token = match.group(1)
                    if token in extra:
                        return str(self.resolve(extra[token]))
                    if "." in token and not token.startswith("AWS::"):
                        logical, attribute = token.split(".", 1)
                        return str(self.get_att(logical, attribute))
                    return str(self.ref(token))

                return re.sub(r"\$\{([^}!]+)\}", substitute, text)
            if key == "Fn::If":
                chosen = arg[1] if self.condition(arg[0]) else arg[2]
                return self.resolve(chosen)
            if key == "Fn::Equals":
                a, b = (self.resolve(x) for x in arg)
                return str(a) == str(b)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Condition":
                return self.condition(arg)
        return {k: self.resolve(v) for k, v in value.items()}

    def of_type(self, kind):
        return [(logical, r) for logical, r in self.resources.items() if r["Type"] == kind]


# --------------------------------------------------------------------------------------------
# Creating the stack
# --------------------------------------------------------------------------------------------


def clients(endpoint, region):
    # Emulators take any key; the same defaults as the shell script when none is set.
    session = boto3.session.Session(
        region_name=region,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )
    config = boto3.session.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3})
    return {
        name: session.client(name, endpoint_url=endpoint, config=config)
        for name in ("s3", "sqs", "dynamodb", "sts")
    }


def queue_urls(stack, sqs):
    return {
        logical: sqs.get_queue_url(QueueName=stack.physical_name(logical))["QueueUrl"]
        for logical, _ in stack.of_type("AWS::SQS::Queue")
    }


def with_urls(value, urls_by_name):
    """Replaces the queue placeholders of `Stack.ref` by the URLs the emulator gave."""
    if isinstance(value, dict):
        if set(value) == {"QueueUrlOf"}:
            return urls_by_name[value["QueueUrlOf"]]
        return {k: with_urls(v, urls_by_name) for k, v in value.items()}
    if isinstance(value, list):
        return [with_urls(v, urls_by_name) for v in value]
    return value


QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
                    "MaximumMessageSize", "ReceiveMessageWaitTimeSeconds")


def create_queues(stack, sqs):
    queues = stack.of_type("AWS::SQS::Queue")
    # Dead-letter queues first: a redrive policy names an existing queue.
    queues.sort(key=lambda item: "RedrivePolicy" in item[1].get("Properties", {}))
    for logical, resource in queues:
        props = stack.resolve(resource.get("Properties", {}))
        attributes = {k: str(props[k]) for k in QUEUE_ATTRIBUTES if k in props}
        if "RedrivePolicy" in props:
            policy = props["RedrivePolicy"]
            attributes["RedrivePolicy"] = json.dumps({
                "deadLetterTargetArn": policy["deadLetterTargetArn"],
                "maxReceiveCount": int(policy["maxReceiveCount"]),
            })
        sqs.create_queue(QueueName=stack.physical_name(logical), Attributes=attributes)


def create_tables(stack, dynamodb):
    for logical, resource in stack.of_type("AWS::DynamoDB::Table"):
        props = stack.resolve(resource["Properties"])
        name = stack.physical_name(logical)
        args = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = [
                {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
                for index in props["GlobalSecondaryIndexes"]
            ]
        dynamodb.create_table(**args)
        dynamodb.get_waiter("table_exists").wait(TableName=name)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )


def create_buckets(stack, s3, region):
    for logical, resource in stack.of_type("AWS::S3::Bucket"):
        props = stack.resolve(resource.get("Properties", {}))
        name = stack.physical_name(logical)
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": region}
            )
        if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": "Enabled"}
            )
        rules = [lifecycle_rule(rule)
                 for rule in props.get("LifecycleConfiguration", {}).get("Rules", [])]
        if rules:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": rules})
        notifications = props.get("NotificationConfiguration", {})
        configurations = []
        for queue in notifications.get("QueueConfigurations", []):
            entry = {"QueueArn": queue["Queue"], "Events": [queue["Event"]]}
            rules = queue.get("Filter", {}).get("S3Key", {}).get("Rules", [])
            if rules:
                entry["Filter"] = {"Key": {"FilterRules": rules}}
            configurations.append(entry)
        if configurations:
            s3.put_bucket_notification_configuration(
                Bucket=name,
                NotificationConfiguration={"QueueConfigurations": configurations},
            )


def lifecycle_rule(rule):
    """A lifecycle rule of the template in the S3 API's shape."""
    api = {"ID": rule["Id"], "Status": rule["Status"],
           "Filter": {"Prefix": rule.get("Prefix", "")}}
    expiration = {}
    if "ExpirationInDays" in rule:
        expiration["Days"] = int(rule["ExpirationInDays"])
    if rule.get("ExpiredObjectDeleteMarker"):
        expiration["ExpiredObjectDeleteMarker"] = True
    if expiration:
        api["Expiration"] = expiration
    if "NoncurrentVersionExpiration" in rule:
        api["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(
                rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
    return api


def cmd_retention(args):
    """Section 8 as the stack has it: each bucket's lifecycle rules, each queue's retention, the
    table's TTL attribute (read back from the emulator, not from the template)."""
    description, aws = load_stack(args)
    for logical, bucket in sorted(description["buckets"].items()):
        try:
            rules = aws["s3"].get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        except aws["s3"].exceptions.ClientError:
            rules = []
        for rule in rules:
            prefix = rule.get("Filter", {}).get("Prefix", rule.get("Prefix", ""))
            current = rule.get("Expiration", {}).get("Days", "-")
            noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays", "-")
            print(f"bucket {logical} {prefix or '*'} current {current} noncurrent {noncurrent}")
    for logical, url in sorted(description["queues"].items()):
        seconds = int(aws["sqs"].get_queue_attributes(
            QueueUrl=url, AttributeNames=["MessageRetentionPeriod"]
        )["Attributes"]["MessageRetentionPeriod"])
        print(f"queue {logical} retention {seconds // 86400} days")
    for logical, table in sorted(description["tables"].items()):
        ttl = aws["dynamodb"].describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        print(f"table {logical} ttl {ttl.get('AttributeName', '-')} {ttl['TimeToLiveStatus']}")


def describe(stack, urls):
    """stack.json: what the bridge polls, what each function gets, the schedules."""
    urls_by_name = {stack.physical_name(logical): url for logical, url in urls.items()}
    names_by_arn = {stack.arn(logical): logical for logical in urls}
    globals_env = stack.template.get("Globals", {}).get("Function", {}).get(
        "Environment", {}).get("Variables", {})
    functions, mappings, schedules = {}, [], []
    for logical, resource in stack.of_type("AWS::Serverless::Function"):
        binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary", logical)
        props = resource["Properties"]
        env = dict(stack.resolve(globals_env))
        env.update(stack.resolve(props.get("Environment", {}).get("Variables", {})))
        env = with_urls({k: "" if v is None else str(v) for k, v in env.items()}, urls_by_name)
        functions[binary] = {"logical_id": logical, "environment": env}
        for event_name, event in props.get("Events", {}).items():
            event_props = stack.resolve(event.get("Properties", {}))
            if event["Type"] == "SQS":
                queue = names_by_arn[event_props["Queue"]]
                attributes = stack.resolve(stack.resources[queue].get("Properties", {}))
                redrive = attributes.get("RedrivePolicy", {})
                dead_letter = names_by_arn.get(redrive.get("deadLetterTargetArn"))
                mappings.append({
                    "event": event_name,
                    "function": binary,
                    "queue": queue,
                    "queue_url": urls[queue],
                    "batch_size": int(event_props.get("BatchSize", 10)),
                    "batching_window_seconds": int(
                        event_props.get("MaximumBatchingWindowInSeconds", 0)),
                    "report_batch_item_failures": "ReportBatchItemFailures"
                    in event_props.get("FunctionResponseTypes", []),
                    "max_receive_count": int(redrive.get("maxReceiveCount", 0)),
                    "dead_letter_queue": dead_letter,
                    "dead_letter_queue_url": urls.get(dead_letter),
                    "event_source_arn": event_props["Queue"],
                })
            elif event["Type"] in ("ScheduleV2", "Schedule"):
                schedules.append({
                    "name": event_props.get("Name", event_name),
                    "function": binary,
                    "expression": event_props["ScheduleExpression"],
                    "timezone": event_props.get("ScheduleExpressionTimezone", "UTC"),
                    "input": event_props.get("Input", "{}"),
                })
    inbound_prefix = ""
    for logical, resource in stack.of_type("AWS::S3::Bucket"):
        props = stack.resolve(resource.get("Properties", {}))
        for queue in props.get("NotificationConfiguration", {}).get("QueueConfigurations", []):
            for rule in queue.get("Filter", {}).get("S3Key", {}).get("Rules", []):
                if rule["Name"].lower() == "prefix":
                    inbound_prefix = rule["Value"]
    return {
        "stack_name": stack.name,
        "account": stack.account,
        "region": stack.region,
        "functions": functions,
        "event_source_mappings": mappings,
        "schedules": schedules,
        "queues": urls,
        "buckets": {
            logical: stack.physical_name(logical) for logical, _ in stack.of_type("AWS::S3::Bucket")
        },
        "tables": {
            logical: stack.physical_name(logical)
            for logical, _ in stack.of_type("AWS::DynamoDB::Table")
        },
        "inbound_prefix": inbound_prefix,
        "moto_sender_id": MOTO_SENDER_ID,
    }


def required_parameters(account):
    """Values for the template's parameters without a default. The emulator applies no bucket
    policy, so the TIS principal only has to be a well-formed ARN of the local account."""
    return {"TisWriterPrincipalArn": f"arn:aws:iam::{account}:role/dit-local-tis"}


def cmd_stack(args):
    aws = clients(args.endpoint, args.region)
    account = aws["sts"].get_caller_identity()["Account"]
    template = load_template()
    required = required_parameters(account)
    outbound = Stack(template, args.stack_name, account, args.region, required).physical_name(
        "OutboundBucket")
    config_key = "config/organisations.toml"
    stack = Stack(template, args.stack_name, account, args.region, {
        **required,
        "OrganisationsS3Uri": f"s3://{outbound}/{config_key}",
        "OrganisationsToml": "",
    })
    create_queues(stack, aws["sqs"])
    create_tables(stack, aws["dynamodb"])
    create_buckets(stack, aws["s3"], args.region)
    with open(args.organisations, encoding="utf-8") as f:
        organisations, senders = local_organisations(f.read())
    aws["s3"].put_object(Bucket=outbound, Key=config_key, Body=organisations.encode("utf-8"))
    description = describe(stack, queue_urls(stack, aws["sqs"]))
    description["senders"] = senders
    description["endpoint"] = args.endpoint
    description["organisations_uri"] = f"s3://{outbound}/{config_key}"
    with open(os.path.join(args.state, "stack.json"), "w", encoding="utf-8") as f:
        json.dump(description, f, indent=2)
    # One environment for every function served by `cargo lambda watch`: the union of the
    # template's variables (they agree wherever two functions share one), plus the endpoint.
    env = {}
    for function in description["functions"].values():
        env.update(function["environment"])
    env.update({
        "AWS_ENDPOINT_URL": args.endpoint,
        "AWS_REGION": args.region,
        "AWS_DEFAULT_REGION": args.region,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        "RUST_LOG": os.environ.get("RUST_LOG", env.get("RUST_LOG", "info")),
    })
    with open(os.path.join(args.state, "functions.env"), "w", encoding="utf-8") as f:
        for key, value in sorted(env.items()):
            if "\n" in value:
                sys.exit(f"environment variable {key} holds a newline; cannot write an env file")
            f.write(f"{key}={value}\n")
    summary = {
        "buckets": description["buckets"],
        "tables": description["tables"],
        "queues": sorted(description["queues"]),
        "organisations": description["organisations_uri"],
    }
    print(json.dumps(summary, indent=2))


def local_organisations(text):
    """The organisations config for the local stack, and whether it names senders.

    A config with `[[sender]]` entries is read by functions that believe only the SQS SenderId
    (section 7): since moto stamps every message with one SenderId, that id is added as an operator
    sender (the authority `dit action` has without --as), so the sample messages are handled as
    `dit action` handles them. A config without senders is used as it is.
    """
    senders = re.search(r"^\s*\[\[\s*sender\s*\]\]", text, re.MULTILINE) is not None
    if senders and MOTO_SENDER_ID not in text:
        text = text.rstrip("\n") + (
            "\n\n# Added by scripts/local-cloud.sh: moto gives every message this SenderId, so one\n"
            "# operator sender stands for the trusts and Trac (as `dit action` without --as).\n"
            f'[[sender]]\nid = "{MOTO_SENDER_ID}"\nrole = "operator"\n'
        )
    return text, senders


# --------------------------------------------------------------------------------------------
# Using the stack
# --------------------------------------------------------------------------------------------


def load_stack(args):
    with open(os.path.join(args.state, "stack.json"), encoding="utf-8") as f:
        description = json.load(f)
    return description, clients(description["endpoint"], description["region"])


def inbound_key(prefix, path):
    """Where a file is dropped: under the prefix the bucket notification listens on, in its
    sender's folder (section 7; inbound-file quarantines a file found anywhere else): `tis/` for
    TIS files, `trusts/<VPD>/` for a trust's POS file (`ESR_<VPD>_POS_...`)."""
    name = os.path.basename(path)
    parts = name.split("_")
    if len(parts) > 2 and parts[0] == "ESR" and parts[2] == "POS" and re.fullmatch(
            r"[A-Z0-9]{3,4}", parts[1]):
        return f"{prefix}trusts/{parts[1]}/{name}"
    return f"{prefix}tis/{name}"


def cmd_drop(args):
    description, aws = load_stack(args)
    bucket = description["buckets"]["InboundBucket"]
    for path in args.files:
        key = inbound_key(description["inbound_prefix"], path)
        extra = {"StorageClass": args.storage_class} if args.storage_class else {}
        with open(path, "rb") as f:
            aws["s3"].put_object(Bucket=bucket, Key=key, Body=f.read(), **extra)
        print(f"s3://{bucket}/{key}")


def messages_in(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".jsonl"):
        return [line for line in text.splitlines() if line.strip()]
    return [text]


def mapping_for(description, function):
    for mapping in description["event_source_mappings"]:
        if mapping["function"] == function:
            return mapping
    sys.exit(f"no SQS event source for {function} in the template")


def cmd_send(args):
    description, aws = load_stack(args)
    queue_url = mapping_for(description, args.function)["queue_url"]
    sent = 0
    for path in args.files:
        for body in messages_in(path):
            aws["sqs"].send_message(QueueUrl=queue_url, MessageBody=body)
            sent += 1
    print(f"{sent} message(s) sent to {queue_url.rsplit('/', 1)[-1]}")


def cmd_payloads(args):
    """Scheduler's payload for each schedule on a date: the template's Input with the
    scheduled time (the cron's local time of day on that date, written in UTC) filled in."""
    description, _ = load_stack(args)
    date = datetime.date.fromisoformat(args.date)
    for schedule in description["schedules"]:
        fields = schedule["expression"].removeprefix("cron(").removesuffix(")").split()
        minute, hour = int(fields[0]), int(fields[1])
        local = datetime.datetime.combine(
            date, datetime.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(schedule["timezone"]))
        scheduled = local.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        payload = (schedule["input"]
                   .replace("<aws.scheduler.scheduled-time>", scheduled)
                   .replace("<aws.scheduler.execution-id>", f"local-{schedule['name']}-{args.date}"))
        print(json.dumps({"function": schedule["function"], "schedule": schedule["name"],
                          "payload": json.loads(payload)}))


def depths(aws, url):
    attributes = aws["sqs"].get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]))


def cmd_wait(args):
    description, aws = load_stack(args)
    deadline = time.monotonic() + args.timeout
    quiet = 0
    while True:
        busy = {m["queue"]: depths(aws, m["queue_url"]) for m in description["event_source_mappings"]}
        quiet = quiet + 1 if all(sum(d) == 0 for d in busy.values()) else 0
        # Twice in a row: a file's notification is queued as the upload returns.
        if quiet >= 2:
            return
        if time.monotonic() > deadline:
            sys.exit(f"queues not drained after {args.timeout} s: {busy}")
        time.sleep(0.5)


def cmd_status(args):
    description, aws = load_stack(args)
    print(f"endpoint {description['endpoint']}, stack {description['stack_name']}")
    for logical, url in sorted(description["queues"].items()):
        visible, in_flight = depths(aws, url)
        print(f"  queue {logical:<32} visible {visible:>4}  in flight {in_flight:>4}")
    for logical, bucket in sorted(description["buckets"].items()):
        objects = list_objects(aws["s3"], bucket)
        print(f"  bucket {logical:<31} {len(objects):>4} object(s)")
        if args.verbose:
            for key, storage_class in objects:
                archived = f" ({storage_class})" if storage_class in ARCHIVED else ""
                print(f"    {key}{archived}")


ARCHIVED = ("GLACIER", "DEEP_ARCHIVE")


def list_objects(s3, bucket):
    """(key, storage class) of every current object."""
    objects = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        objects.extend(
            (item["Key"], item.get("StorageClass", "STANDARD")) for item in page.get("Contents", [])
        )
    return objects


def cmd_pull(args):
    description, aws = load_stack(args)
    bucket = description["buckets"][args.bucket]
    for key, storage_class in list_objects(aws["s3"], bucket):
        if storage_class in ARCHIVED:
            print(f"{key}: not downloaded, archived ({storage_class})", file=sys.stderr)
            continue
        target = os.path.join(args.target, *key.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        aws["s3"].download_file(bucket, key, target)


def cmd_depth(args):
    description, aws = load_stack(args)
    visible, in_flight = depths(aws, description["queues"][args.queue])
    print(visible + in_flight)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", required=True, help="the local-cloud state directory")
    sub = parser.add_subparsers(dest="command", required=True)

    stack = sub.add_parser("stack")
    stack.add_argument("--endpoint", required=True)
    stack.add_argument("--region", default="eu-west-2")
    stack.add_argument("--stack-name", default="dit-local")
    stack.add_argument("--organisations", required=True)
    stack.set_defaults(run=cmd_stack)

    drop = sub.add_parser("drop")
    drop.add_argument("--storage-class", help="e.g. GLACIER: an object the function cannot read")
    drop.add_argument("files", nargs="+")
    drop.set_defaults(run=cmd_drop)

    send = sub.add_parser("send")
    send.add_argument("--function", default="trust-messages")
    send.add_argument("files", nargs="+")
    send.set_defaults(run=cmd_send)

    payloads = sub.add_parser("payloads")
    payloads.add_argument("--date", required=True)
    payloads.set_defaults(run=cmd_payloads)

    wait = sub.add_parser("wait")
    wait.add_argument("--timeout", type=float, default=900)
    wait.set_defaults(run=cmd_wait)

    status = sub.add_parser("status")
    status.add_argument("--verbose", action="store_true")
    status.set_defaults(run=cmd_status)

    pull = sub.add_parser("pull")
    pull.add_argument("bucket", choices=["InboundBucket", "OutboundBucket"])
    pull.add_argument("target")
    pull.set_defaults(run=cmd_pull)

    retention = sub.add_parser("retention")
    retention.set_defaults(run=cmd_retention)

    depth = sub.add_parser("depth")
    depth.add_argument("queue", help="logical id, e.g. InboundDeadLetterQueue")
    depth.set_defaults(run=cmd_depth)

    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
