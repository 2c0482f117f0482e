#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Lints template.yaml (cfn-lint, then SAM's own validation) and checks that openapi.yaml is a valid
# OpenAPI document. Installs the pinned tools into .venv/ on first use. Silent when all is well.
# Needs no AWS account: only PyPI, the first time.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

# SAM wants a region even to validate offline; dummy credentials keep it from looking for real ones.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-validate-offline}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-validate-offline}"

ensure_venv
# No error, no warning: cfn-lint exits non-zero for either.
run_quietly cfn-lint template.yaml
run_quietly sam validate --lint --template-file template.yaml
run_quietly openapi-spec-validator openapi.yaml
