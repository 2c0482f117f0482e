#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds every function of template.yaml as `sam build` does for a deployment (cargo-lambda, release,
# for the Lambda architecture), offline, and checks each artefact is a Linux binary for that
# architecture. arm64 unless the Rust target for it is missing and cannot be added: then x86_64.
# Takes minutes (a release build of the workspace); the output goes to .aws-sam/build.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
ensure_venv
architecture="$(pick_architecture)"
build_dir="$ROOT/.aws-sam/build"

# The check proves every function builds the way a deployment builds it (SAM, cargo-lambda, the
# Lambda architecture). It skips link-time optimisation, which a deployment keeps: with it, nine
# LTO links of the whole dependency tree take most of an hour of CPU on two cores.
export CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_INCREMENTAL=false

started=$SECONDS
run_quietly sam build \
  --template-file template.yaml \
  --build-dir "$build_dir" \
  --parameter-overrides "Architecture=$architecture"

# Every function of the template has a bootstrap for the chosen architecture.
functions="$("$VENV/bin/python" - <<'PY'
from samtranslator.yaml_helper import yaml_parse
with open("template.yaml") as f:
    resources = yaml_parse(f.read())["Resources"]
print(" ".join(sorted(k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function")))
PY
)"
for function in $functions; do
  bootstrap="$build_dir/$function/bootstrap"
  [ -x "$bootstrap" ] || die "sam build made no executable $bootstrap"
  built="$(elf_architecture "$bootstrap")"
  [ "$built" = "$architecture" ] || die "$bootstrap is built for $built, not $architecture"
done
echo "sam build: $(wc -w <<<"$functions") functions built for $architecture in $((SECONDS - started)) s"
