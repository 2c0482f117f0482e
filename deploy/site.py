"""What deploying and destroying the stack needs besides SAM, done with boto3 (which the SAM CLI
brings into .venv/): the SPA's runtime config from the stack's outputs, the upload of www/dist to
the site bucket with a CloudFront invalidation, and the clean-up around deleting the stack.

Run by deploy/deploy.sh and deploy/destroy.sh:

    python deploy/site.py publish --stack NAME --region REGION --dist www/dist
    python deploy/site.py config --stack NAME --region REGION        # prints config.json
    python deploy/site.py exists --stack NAME --region REGION        # exit status 0 or 1
    python deploy/site.py identity --stack NAME --region REGION      # who is deploying where
    python deploy/site.py empty-bucket --stack NAME --region REGION
    python deploy/site.py retained --stack NAME --region REGION
    python deploy/site.py delete-log-groups --stack NAME --region REGION
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
from pathlib import Path

import boto3
from botocore.exceptions import ClientError, NoCredentialsError

# Vite writes content-hashed files under assets/: they never change, so browsers and CloudFront keep
# them for a year. Everything else (index.html, config.json, icons) is revalidated on every load, so
# a deployment shows at once.
HASHED_PREFIX = "assets/"
CACHE_HASHED = "public, max-age=31536000, immutable"
CACHE_REVALIDATE = "no-cache"
# Uploaded last, so that no visitor gets an index.html or config.json ahead of what they refer to.
ENTRY_POINTS = ("index.html", "config.json")

# aws.cognito.signin.user.admin: the access token may call Cognito's user APIs for its own user; the
# SPA deletes the user with DeleteUser after DELETE /account (template.yaml's app client allows it).
SCOPE = "openid email profile aws.cognito.signin.user.admin"
# Resources the stack keeps when it is deleted (DeletionPolicy: Retain in template.yaml).
RETAINED = {
    "ApiGatewayCloudWatchRole": "IAM role API Gateway logs through in this account and region "
    "(AWS::ApiGateway::Account); delete it once no API of the account logs any more",
}

for extension, media_type in {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".woff2": "font/woff2",
    ".txt": "text/plain",
}.items():
    mimetypes.add_type(media_type, extension)


class StackMissing(Exception):
    pass


def stack_outputs(session: boto3.Session, stack: str) -> dict[str, str]:
    cloudformation = session.client("cloudformation")
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            raise StackMissing(stack) from error
        raise
    return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}


def runtime_config(outputs: dict[str, str]) -> dict[str, object]:
    """The SPA's /config.json (see www/src/config.ts) for this stack."""
    origin = outputs["SpaOrigin"].rstrip("/")
    return {
        "apiBaseUrl": outputs["ApiBaseUrl"],
        # The live updates' WebSocket (template.yaml: LiveApi's stage); the SPA adds ?token=<ID token>.
        "liveUrl": outputs["LiveUrl"],
        "authority": outputs["CognitoAuthority"],
        "clientId": outputs["UserPoolClientId"],
        # The app client's callback and sign-out URL (template.yaml: <SPA origin>/).
        "redirectUri": f"{origin}/",
        "postLogoutRedirectUri": f"{origin}/",
        "scope": SCOPE,
        # Cognito publishes no end_session_endpoint; its managed login signs out here.
        "logoutUrl": f"{outputs['ManagedLoginUrl']}/logout",
    }


def content_type(key: str) -> str:
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    textual = media_type.startswith("text/") or media_type in {
        "application/json",
        "application/manifest+json",
        "image/svg+xml",
    }
    return f"{media_type}; charset=utf-8" if textual else media_type


def upload_order(keys: list[str]) -> list[str]:
    """Hashed assets first, entry points last."""

    def rank(key: str) -> tuple[int, str]:
        if key.startswith(HASHED_PREFIX):
            return (0, key)
        if key in ENTRY_POINTS:
            return (2, key)
        return (1, key)

    return sorted(keys, key=rank)


def bucket_keys(s3, bucket: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def delete_objects(s3, bucket: str, objects: list[dict[str, str]]) -> None:
    for start in range(0, len(objects), 1000):
        batch = objects[start : start + 1000]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        if answer.get("Errors"):
            raise RuntimeError(f"could not delete from s3://{bucket}: {answer['Errors'][:3]}")


def publish(session: boto3.Session, stack: str, dist: Path) -> None:
    if not (dist / "index.html").is_file():
        sys.exit(f"error: {dist}/index.html is missing: build the SPA first")
    outputs = stack_outputs(session, stack)
    bucket = outputs["SiteBucketName"]

    config = dist / "config.json"
    config.write_text(json.dumps(runtime_config(outputs), indent=2) + "\n", encoding="utf-8")

    s3 = session.client("s3")
    local = {path.relative_to(dist).as_posix(): path for path in dist.rglob("*") if path.is_file()}
    for key in upload_order(list(local)):
        s3.upload_file(
            str(local[key]),
            bucket,
            key,
            ExtraArgs={
                "ContentType": content_type(key),
                "CacheControl": CACHE_HASHED if key.startswith(HASHED_PREFIX) else CACHE_REVALIDATE,
            },
        )
    # What the new build no longer has goes, except hashed assets: a tab opened before this
    # deployment may still load one of its chunks.
    stale = [key for key in bucket_keys(s3, bucket) if key not in local and not key.startswith(HASHED_PREFIX)]
    delete_objects(s3, bucket, [{"Key": key} for key in stale])
    print(f"uploaded {len(local)} files to s3://{bucket} (removed {len(stale)} stale)")

    cloudfront = session.client("cloudfront")
    invalidation = cloudfront.create_invalidation(
        DistributionId=outputs["DistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": f"{stack}-{time.time_ns()}",
        },
    )["Invalidation"]["Id"]
    print(f"waiting for CloudFront invalidation {invalidation} ...")
    cloudfront.get_waiter("invalidation_completed").wait(
        DistributionId=outputs["DistributionId"],
        Id=invalidation,
        WaiterConfig={"Delay": 15, "MaxAttempts": 60},
    )
    print(f"the SPA is live at {outputs['SiteUrl']}")


def stack_resource(session: boto3.Session, stack: str, logical_id: str) -> str | None:
    """The physical id of one of the stack's resources; None when the stack or resource is gone."""
    cloudformation = session.client("cloudformation")
    try:
        detail = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
    except ClientError:
        return None
    return detail["StackResourceDetail"].get("PhysicalResourceId") or None


def empty_bucket(session: boto3.Session, stack: str) -> None:
    # From the resource, not the outputs: a stack whose creation failed has a bucket but no outputs.
    bucket = stack_resource(session, stack, "SiteBucket")
    if not bucket:
        return
    s3 = session.client("s3")
    removed = 0
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            versions = page.get("Versions", []) + page.get("DeleteMarkers", [])
            objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]
            delete_objects(s3, bucket, objects)
            removed += len(objects)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise
    print(f"emptied s3://{bucket} ({removed} objects)")


def retained(session: boto3.Session, stack: str) -> None:
    for logical_id, what in RETAINED.items():
        physical_id = stack_resource(session, stack, logical_id)
        if physical_id:
            print(f"kept {physical_id}: {what}")


def delete_log_groups(session: boto3.Session, stack: str) -> None:
    logs = session.client("logs")
    # The functions' log groups (template.yaml: /aws/lambda/<stack>/<binary>), those Lambda makes
    # by itself for functions named <stack>-<logical id>-<suffix>, and the replay state machine's
    # (/aws/vendedlogs/states/<stack>/replay), should the stack's deletion have left any behind.
    prefixes = (f"/aws/lambda/{stack}/", f"/aws/lambda/{stack}-", f"/aws/vendedlogs/states/{stack}/")
    for prefix in prefixes:
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix):
            for group in page.get("logGroups", []):
                logs.delete_log_group(logGroupName=group["logGroupName"])
                print(f"deleted log group {group['logGroupName']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["publish", "config", "exists", "identity", "empty-bucket", "retained", "delete-log-groups"])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--dist", type=Path, default=Path("www/dist"))
    args = parser.parse_args()
    session = boto3.Session(region_name=args.region)
    try:
        if args.command == "publish":
            publish(session, args.stack, args.dist)
        elif args.command == "exists":
            stack_outputs(session, args.stack)
        elif args.command == "identity":
            caller = session.client("sts").get_caller_identity()
            print(f"AWS account {caller['Account']} as {caller['Arn']}, region {args.region}")
        elif args.command == "config":
            print(json.dumps(runtime_config(stack_outputs(session, args.stack)), indent=2))
        elif args.command == "empty-bucket":
            empty_bucket(session, args.stack)
        elif args.command == "retained":
            retained(session, args.stack)
        else:
            delete_log_groups(session, args.stack)
    except NoCredentialsError:
        sys.exit("error: no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
    except StackMissing:
        if args.command == "exists":
            sys.exit(1)
        if args.command in ("publish", "config"):
            sys.exit(f"error: stack {args.stack} does not exist in {args.region}")
        # Nothing to empty or report: the stack is already gone.


if __name__ == "__main__":
    main()
