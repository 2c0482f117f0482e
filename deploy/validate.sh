#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Lints template.yaml (cfn-lint, then SAM's own validation, then cfn-lint on the state machines'
# definitions) and checks that openapi.yaml is a valid OpenAPI document. Installs the pinned tools into .venv/ on first use. Silent when all is well.
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
# cfn-lint checks a state machine's definition (E3601, the Amazon States Language with JSONata) only
# on plain AWS::StepFunctions::StateMachine resources, not on SAM's: lint each one again as such.
state_machines="$(mktemp --suffix=.json)"
trap 'rm -f "$state_machines"' EXIT
"$VENV/bin/python" - template.yaml >"$state_machines" <<'PY'
import json
import sys

from samtranslator.yaml_helper import yaml_parse

with open(sys.argv[1]) as f:
    resources = yaml_parse(f.read())["Resources"]
plain = {}
for logical_id, resource in resources.items():
    if resource["Type"] != "AWS::Serverless::StateMachine":
        continue
    properties = resource["Properties"]
    plain[logical_id] = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "RoleArn": "arn:aws:iam::123456789012:role/lint-only",
            "Definition": properties["Definition"],
            # Placeholders stand in for the ${...} substitutions (the rule skips those strings).
            "DefinitionSubstitutions": {name: "lint-only" for name in properties.get("DefinitionSubstitutions", {})},
        },
    }
json.dump({"AWSTemplateFormatVersion": "2010-09-09", "Resources": plain}, sys.stdout, indent=1)
PY
run_quietly cfn-lint "$state_machines"
run_quietly openapi-spec-validator openapi.yaml
