# shellcheck shell=bash
# Shared by the scripts in deploy/: the repository root, the pinned Python tools in .venv/, quiet
# command runs, and the Lambda architecture to build for. Sourced, never run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
REQUIREMENTS="$ROOT/deploy/requirements.txt"

# SAM CLI: no telemetry, and the (preview) cargo-lambda builder without an interactive opt-in.
export SAM_CLI_TELEMETRY=0
export SAM_CLI_BETA_RUST_CARGO_LAMBDA=1
# cargo finds `cargo lambda`, and cargo-lambda finds zig, on PATH.
export PATH="$VENV/bin:$PATH"

die() {
  echo "error: $*" >&2
  exit 1
}

# Runs a command with its output held back; shows the output only when the command fails.
run_quietly() {
  local log status=0
  log="$(mktemp)"
  "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    echo "failed ($status): $*" >&2
    cat "$log" >&2
  fi
  rm -f "$log"
  return "$status"
}

# Creates .venv/ and installs deploy/requirements.txt into it, unless that exact list is installed.
ensure_venv() {
  local stamp="$VENV/.deploy-requirements.txt"
  if [ -x "$VENV/bin/sam" ] && [ -f "$stamp" ] && cmp -s "$REQUIREMENTS" "$stamp"; then
    return 0
  fi
  command -v python3 >/dev/null || die "python3 is needed to install the SAM CLI and cfn-lint"
  if [ ! -x "$VENV/bin/python" ]; then
    run_quietly python3 -m venv "$VENV"
  fi
  run_quietly "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet -r "$REQUIREMENTS"
  cp "$REQUIREMENTS" "$stamp"
}

# Prints the architecture to build and deploy: $ARCHITECTURE if set, else arm64 when the Rust
# target for it is installed or can be added, else x86_64 (saying so on stderr).
pick_architecture() {
  local wanted="${ARCHITECTURE:-arm64}"
  case "$wanted" in
    x86_64) echo x86_64 ;;
    arm64)
      if rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu ||
        rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1; then
        echo arm64
      elif [ -n "${ARCHITECTURE:-}" ]; then
        die "ARCHITECTURE=arm64 needs the Rust target aarch64-unknown-linux-gnu (rustup target add aarch64-unknown-linux-gnu)"
      else
        echo "note: the Rust target aarch64-unknown-linux-gnu is not installed and could not be added;" \
          "building for x86_64 (--parameter-overrides Architecture=x86_64)" >&2
        echo x86_64
      fi
      ;;
    *) die "ARCHITECTURE must be arm64 or x86_64, not '$wanted'" ;;
  esac
}

# The ELF machine of a built bootstrap: arm64, x86_64 or unknown.
elf_architecture() {
  "$VENV/bin/python" - "$1" <<'PY'
import sys
with open(sys.argv[1], "rb") as f:
    header = f.read(20)
machine = int.from_bytes(header[18:20], "little") if header[:4] == b"\x7fELF" else None
print({183: "arm64", 62: "x86_64"}.get(machine, "unknown"))
PY
}

# The AWS region of a deployment: AWS_REGION, else AWS_DEFAULT_REGION.
aws_region() {
  local region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
  [ -n "$region" ] || die "set AWS_REGION (e.g. AWS_REGION=eu-west-1)"
  echo "$region"
}
