#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Replays the event table into the projections on AWS, in parallel segments: starts an execution of
# the deployed stack's replay state machine (template.yaml's ReplayStateMachine, one invocation of
# the `replay` function per segment), waits for it, then prints each segment's counts and the total.
# Run by `make replay-aws`. Needs the deployed stack and AWS credentials; no AWS CLI (boto3 comes
# with the SAM CLI in .venv/).
#
# Environment:
#   AWS_REGION (or AWS_DEFAULT_REGION)  where the stack is; required
#   STACK_NAME                          default: todo
#   AWS_PROFILE, AWS_ACCESS_KEY_ID, ... the usual AWS credentials
#   SEGMENTS                            parallel Scan segments, 1 to 1000 (default 16); at most 40
#                                       run at once, each within the function's 15 minutes
#   PROJECTION                          todos (default), stats or all
#   VERIFY                              true: compare only, write nothing; false (default): rebuild
#
# Exit status, as the `replay` command's: 0 done and no drift; 1 drift (with VERIFY=true, rows that
# differ from the fold of their events; otherwise rows that could not be rewritten); 2 the replay
# could not run or failed (see the message: no credentials, no stack, a segment's error).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

fail() {
  echo "error: $*" >&2
  exit 2
}

STACK_NAME="${STACK_NAME:-todo}"
REGION="$(aws_region)" || exit 2
segments="${SEGMENTS:-16}"
projection="${PROJECTION:-todos}"
verify="${VERIFY:-false}"

[[ "$segments" =~ ^[0-9]+$ ]] && [ "$segments" -ge 1 ] && [ "$segments" -le 1000 ] ||
  fail "SEGMENTS must be a whole number from 1 to 1000, not '$segments'"
case "$projection" in
  todos | stats | all) ;;
  *) fail "PROJECTION must be todos, stats or all, not '$projection'" ;;
esac
case "$verify" in
  true | false) ;;
  *) fail "VERIFY must be true or false, not '$verify'" ;;
esac

ensure_venv || exit 2
exec python "$ROOT/deploy/replay.py" \
  --stack "$STACK_NAME" \
  --region "$REGION" \
  --projection "$projection" \
  --segments "$segments" \
  --verify "$verify"
