"""Runs a replay on AWS with the deployed stack's replay state machine, with boto3 (which the SAM CLI
brings into .venv/): starts an execution with {"projection", "verify", "segments"}, waits for it,
prints each segment's SegmentReport and the total, and exits as the `replay` command does.

Run by deploy/replay.sh (`make replay-aws`):

    python deploy/replay.py --stack NAME --region REGION --projection todos|stats|all \
        --segments N --verify true|false

Exit status: 0 done and no drift; 1 drift; 2 the replay could not run or failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

# template.yaml's output naming the state machine.
ARN_OUTPUT = "ReplayStateMachineArn"
# projector::job::SegmentReport's counts, which the state machine sums into "total".
COUNTS = ("events", "todos", "written", "removed", "drift")
POLL_SECONDS = 5
REPORT_EVERY_SECONDS = 60
FINISHED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class Failure(Exception):
    """The replay could not run or failed: exit status 2."""


def state_machine_arn(session: boto3.Session, stack: str, region: str) -> str:
    cloudformation = session.client("cloudformation")
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            raise Failure(
                f"stack {stack} does not exist in {region}: deploy it first (make deploy), "
                "or set STACK_NAME and AWS_REGION to the deployed stack's"
            ) from error
        raise
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}
    if ARN_OUTPUT not in outputs:
        raise Failure(
            f"stack {stack} in {region} has no {ARN_OUTPUT} output (status {stacks[0]['StackStatus']}): "
            "deploy this version of template.yaml first (make deploy)"
        )
    return outputs[ARN_OUTPUT]


def execution_name(projection: str, verify: bool, segments: int) -> str:
    """Unique per second and readable in the console (at most 80 of [A-Za-z0-9-_])."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{projection}-{'verify' if verify else 'rebuild'}-{segments}-segments-{stamp}"


def wait(client, execution: str) -> dict:
    started = time.monotonic()
    reported = started
    while True:
        description = client.describe_execution(executionArn=execution)
        if description["status"] in FINISHED:
            return description
        time.sleep(POLL_SECONDS)
        now = time.monotonic()
        if now - reported >= REPORT_EVERY_SECONDS:
            reported = now
            print(f"  still running after {int(now - started) // 60} min ...", flush=True)


def print_reports(output: dict) -> dict:
    reports = output.get("segments")
    total = output.get("total")
    if not isinstance(reports, list) or not isinstance(total, dict):
        raise Failure(f"the execution's output is not {{segments, total}}: {json.dumps(output)[:2000]}")
    header = ("segment",) + COUNTS
    print("  ".join(f"{column:>9}" for column in header))
    for report in sorted(reports, key=lambda r: r.get("segment", 0)):
        print("  ".join(f"{report.get(column, '?'):>9}" for column in header))
    print("  ".join(f"{value:>9}" for value in ("total",) + tuple(total.get(c, "?") for c in COUNTS)))
    return total


def replay(session: boto3.Session, stack: str, region: str, projection: str, segments: int, verify: bool) -> int:
    arn = state_machine_arn(session, stack, region)
    client = session.client("stepfunctions")
    job = {"projection": projection, "verify": verify, "segments": segments}
    execution = client.start_execution(
        stateMachineArn=arn,
        name=execution_name(projection, verify, segments),
        input=json.dumps(job),
    )["executionArn"]
    what = "verifying" if verify else "rebuilding"
    print(f"{what} {projection} in {segments} segments: execution {execution}")
    print(
        f"  console: https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{execution}",
        flush=True,
    )
    try:
        description = wait(client, execution)
    except KeyboardInterrupt:
        print(f"\nstopped waiting; execution {execution} goes on (stop it in the console above)", file=sys.stderr)
        return 130

    status = description["status"]
    if status != "SUCCEEDED":
        error = description.get("error", "")
        cause = description.get("cause", "")
        raise Failure(f"the execution ended {status}: {error} {cause[:4000]}".rstrip())

    total = print_reports(json.loads(description.get("output") or "{}"))
    drift = total.get("drift", 0)
    if drift:
        if verify:
            print(f"drift: {drift} rows differ from the fold of their events (rerun without VERIFY=true to rebuild)")
        else:
            print(f"drift: {drift} rows could not be brought in line with their events (see the replay log group)")
        return 1
    print("no drift")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--projection", choices=["todos", "stats", "all"], default="todos")
    parser.add_argument("--segments", type=int, default=16)
    parser.add_argument("--verify", choices=["true", "false"], default="false")
    args = parser.parse_args()
    if not 1 <= args.segments <= 1000:
        parser.error("--segments must be from 1 to 1000")
    session = boto3.Session(region_name=args.region)
    try:
        status = replay(session, args.stack, args.region, args.projection, args.segments, args.verify == "true")
    except NoCredentialsError:
        print(
            "error: no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
            file=sys.stderr,
        )
        status = 2
    except Failure as failure:
        print(f"error: {failure}", file=sys.stderr)
        status = 2
    except ClientError as error:
        print(f"error: AWS refused: {error}", file=sys.stderr)
        status = 2
    except BotoCoreError as error:
        print(f"error: {error}", file=sys.stderr)
        status = 2
    sys.exit(status)


if __name__ == "__main__":
    main()
