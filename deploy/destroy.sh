#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Deletes the whole stack and everything in it: the site bucket's files, the stack (tables and their
# data, user pool and users, API, functions, distribution), then the functions' log groups. Run by
# `make destroy`. Asks for the stack name first unless YES=1.
#
# Environment: AWS_REGION (or AWS_DEFAULT_REGION), STACK_NAME (default: todo), AWS credentials.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

STACK_NAME="${STACK_NAME:-todo}"
REGION="$(aws_region)"

ensure_venv
site() {
  python "$ROOT/deploy/site.py" "$1" --stack "$STACK_NAME" --region "$REGION"
}
site identity
if ! site exists; then
  echo "stack $STACK_NAME does not exist in $REGION; removing its leftover log groups only"
  site delete-log-groups
  exit 0
fi

if [ "${YES:-}" != 1 ]; then
  [ -t 0 ] || die "not a terminal: set YES=1 to delete stack $STACK_NAME in $REGION without asking"
  echo "This deletes stack $STACK_NAME in $REGION with all its data: every event, todo and user."
  read -r -p "Type the stack name to go on: " answer
  [ "$answer" = "$STACK_NAME" ] || die "not deleted"
fi

# CloudFormation cannot delete a bucket that still holds files.
site empty-bucket
# Named now: once the stack is gone, nothing says which resources it kept.
site retained
sam delete --stack-name "$STACK_NAME" --region "$REGION" --no-prompts
# Lambda recreates a function's log group when it logs after CloudFormation deleted it.
site delete-log-groups
echo "stack $STACK_NAME is deleted"
