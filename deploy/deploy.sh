#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds and deploys the whole stack (template.yaml) with SAM, then publishes the SPA: writes
# www/dist/config.json from the stack's outputs, uploads www/dist to the site bucket and invalidates
# CloudFront. Run by `make deploy`; build the SPA (www/dist) first.
#
# Environment:
#   AWS_REGION (or AWS_DEFAULT_REGION)  where to deploy; required
#   STACK_NAME                          default: todo
#   AWS_PROFILE, AWS_ACCESS_KEY_ID, ... the usual AWS credentials
#   ARCHITECTURE                        arm64 (default, if the Rust target is there) or x86_64
#   Template parameters, passed only when set (otherwise a deployed stack keeps its values):
#   ALARM_EMAIL, SPA_ORIGIN, EXTRA_CALLBACK_URLS, AUTH_DOMAIN_PREFIX, LOG_RETENTION_DAYS,
#   API_RATE_LIMIT, API_BURST_LIMIT
#   DEPLOY_GUIDED=1 or 0                `sam deploy --guided` (asks for every parameter) or not; by
#                                       default guided when the stack does not exist yet and this
#                                       runs in a terminal
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

STACK_NAME="${STACK_NAME:-todo}"
REGION="$(aws_region)"
SAMCONFIG="$ROOT/.aws-sam/samconfig.toml"

[ -f www/dist/index.html ] || die "www/dist/index.html is missing: build the SPA first (npm --prefix www run build)"
ensure_venv
python "$ROOT/deploy/site.py" identity --stack "$STACK_NAME" --region "$REGION"
architecture="$(pick_architecture)"

parameters=("Architecture=$architecture")
add_parameter() { # NAME VALUE: passed only when VALUE is set
  if [ -n "$2" ]; then parameters+=("$1=$2"); fi
}
add_parameter AlarmEmail "${ALARM_EMAIL:-}"
add_parameter SpaOrigin "${SPA_ORIGIN:-}"
add_parameter ExtraCallbackUrls "${EXTRA_CALLBACK_URLS:-}"
add_parameter AuthDomainPrefix "${AUTH_DOMAIN_PREFIX:-}"
add_parameter LogRetentionInDays "${LOG_RETENTION_DAYS:-}"
add_parameter ApiThrottlingRateLimit "${API_RATE_LIMIT:-}"
add_parameter ApiThrottlingBurstLimit "${API_BURST_LIMIT:-}"

echo "building the functions for $architecture (sam build, cargo-lambda) ..."
run_quietly sam build \
  --template-file template.yaml \
  --build-dir .aws-sam/build \
  --parameter-overrides "Architecture=$architecture"

deploy_options=(
  --template-file .aws-sam/build/template.yaml
  --stack-name "$STACK_NAME"
  --region "$REGION"
  --capabilities CAPABILITY_IAM
  --parameter-overrides "${parameters[@]}"
)
guided="${DEPLOY_GUIDED:-}"
if [ -z "$guided" ] && [ -t 0 ] && [ -z "${CI:-}" ] &&
  ! python "$ROOT/deploy/site.py" exists --stack "$STACK_NAME" --region "$REGION"; then
  guided=1
fi
echo "deploying stack $STACK_NAME to $REGION ..."
if [ "$guided" = 1 ]; then
  # Asks for every parameter (offering the ones above; keep the stack name and region) and saves
  # the answers in $SAMCONFIG, which SAM wants to exist already.
  mkdir -p "$(dirname "$SAMCONFIG")"
  [ -f "$SAMCONFIG" ] || echo 'version = 0.1' >"$SAMCONFIG"
  sam deploy --guided --config-file "$SAMCONFIG" "${deploy_options[@]}"
else
  # Parameters not passed keep the deployed stack's values (SAM sends UsePreviousValue).
  sam deploy "${deploy_options[@]}" \
    --resolve-s3 \
    --no-confirm-changeset \
    --no-fail-on-empty-changeset
fi

echo "publishing the SPA ..."
python "$ROOT/deploy/site.py" publish --stack "$STACK_NAME" --region "$REGION" --dist "$ROOT/www/dist"
