#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Fuzzes the API from openapi.yaml with Schemathesis against a local stack it starts itself: no 5xx,
# every status code, content type, header and body as documented, invalid requests rejected, auth
# enforced, one user's todos invisible to another, and stateful sequences through the document's
# links (create, then read, change, complete, delete and the history of that todo). DELETE /account
# erases its caller, so it is fuzzed apart, as users of its own, and then checked to have held (see
# below).
#
# Uses the built target/debug/todo-local (TODO_LOCAL_BIN to use another; `make test-fuzz` builds it
# first) and a fresh data dir, removed afterwards with the server stopped. Exit status: Schemathesis's
# (0 when every check passed). The settings and the checks left out, with the reasons, are in
# deploy/fuzz.toml: a fixed seed, so that a failure reproduces, and a 90 s budget. Arguments go to
# `schemathesis run`, e.g. `deploy/fuzz.sh --seed 7 --max-time 600` to explore further.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

bin="${TODO_LOCAL_BIN:-$ROOT/target/debug/todo-local}"
[ -x "$bin" ] || die "$bin does not exist: build it with \`cargo build --bin todo-local\` (make test-fuzz does)"

ensure_venv

work="$(mktemp -d -t todo-fuzz.XXXXXX)"
server=""
# shellcheck disable=SC2317 # run by the EXIT trap
stop() {
  local status=$?
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null || true
    # A stack that does not stop within 5 s is killed.
    for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  # The stack logs every request; on failure, show what it logged above INFO (a 500's cause).
  if [ "$status" -ne 0 ] && grep -qE ' (WARN|ERROR) ' "$work/server.log" 2>/dev/null; then
    echo "--- todo-local's warnings and errors ---" >&2
    grep -E ' (WARN|ERROR) ' "$work/server.log" | tail -n 40 >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir "$work/data" "$work/www"
# An empty SPA dir: only /api is fuzzed.
"$bin" --port 0 --data-dir "$work/data" --www-dir "$work/www" >"$work/stdout" 2>"$work/server.log" &
server=$!

# The stack prints `todo-local listening on http://127.0.0.1:<port>` once it accepts connections.
url=""
for _ in $(seq 600); do
  url="$(sed -n 's|^todo-local listening on \(http://127\.0\.0\.1:[0-9]*\).*|\1|p' "$work/stdout")"
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || die "todo-local exited before listening"
  sleep 0.1
done
[ -n "$url" ] || die "todo-local did not say it was listening within 60 s"
port="${url##*:}"

# Two users: the fuzzing runs as the first; object_level_authorization replays its reads as the
# second, who must not see the first one's todos. A Web Fuzzing Commons auth file names both.
owner="$("$bin" token --email fuzz@example.com --data-dir "$work/data" --port "$port")"
other="$("$bin" token --email fuzz-other@example.com --data-dir "$work/data" --port "$port")"
cat >"$work/auth.json" <<JSON
{"auth": [
  {"name": "owner", "fixedHeaders": [{"name": "Authorization", "value": "Bearer $owner"}]},
  {"name": "other", "fixedHeaders": [{"name": "Authorization", "value": "Bearer $other"}]}
]}
JSON

# Schemathesis from the temp dir, so that Hypothesis's and its own working files stay out of the tree.
schemathesis() { # AUTH_FILE ARGS...: `schemathesis run` of openapi.yaml against the stack, as AUTH_FILE's users
  local auth="$1"
  shift
  (
    cd "$work"
    FUZZ_AUTH_FILE="$auth" SCHEMATHESIS_HOOKS="$ROOT/deploy/fuzz_hooks.py" \
      "$VENV/bin/schemathesis" --config-file "$ROOT/deploy/fuzz.toml" --no-color \
      run "$ROOT/openapi.yaml" --url "$url/api" "$@"
  )
}

echo "fuzzing $url/api from openapi.yaml (deploy/fuzz.toml)"
started=$SECONDS
status=0
# Every operation but DELETE /account (eraseAccount): it erases its caller, after which each command
# of that user answers 410 account_erased. Fuzzed as owner, it would erase owner part of the way
# through, and every command (and every stateful sequence) after it would be testing an erased account.
schemathesis "$work/auth.json" --exclude-operation-id eraseAccount "$@" || status=$?
echo "fuzzing took $((SECONDS - started)) s"
[ "$status" -eq 0 ] || exit "$status"

# DELETE /account alone, as two users of its own (`other` as object_level_authorization's peer): its
# answers as documented, auth enforced. It has no parameters, so a short budget covers it, and no
# links (nothing leads to it or from it), so there is no stateful phase.
eraser="$("$bin" token --email fuzz-erase@example.com --data-dir "$work/data" --port "$port")"
eraser_peer="$("$bin" token --email fuzz-erase-other@example.com --data-dir "$work/data" --port "$port")"
cat >"$work/erase-auth.json" <<JSON
{"auth": [
  {"name": "owner", "fixedHeaders": [{"name": "Authorization", "value": "Bearer $eraser"}]},
  {"name": "other", "fixedHeaders": [{"name": "Authorization", "value": "Bearer $eraser_peer"}]}
]}
JSON
# Requests of the checks around the erasure run.
request() { # TOKEN METHOD PATH [BODY]: prints the status, the body goes to $work/body
  local data=()
  if [ -n "${4:-}" ]; then data=(-H 'Content-Type: application/json' --data "$4"); fi
  curl --silent --show-error --max-time 30 --output "$work/body" --write-out '%{http_code}' \
    -X "$2" -H "Authorization: Bearer $1" "${data[@]}" "$url/api$3"
}
expect() { # WHAT EXPECTED ACTUAL
  [ "$2" = "$3" ] || { echo "error: $1: answered $3, expected $2: $(cat "$work/body")" >&2; exit 1; }
}
expect "a todo of the user to be erased" 201 "$(request "$eraser" POST /item '{"title":"to be erased"}')"
echo "fuzzing DELETE /account apart, as users of its own"
started=$SECONDS
schemathesis "$work/erase-auth.json" --include-operation-id eraseAccount \
  --phases examples,coverage,fuzzing --max-time 10 || status=$?
echo "fuzzing DELETE /account took $((SECONDS - started)) s"
[ "$status" -eq 0 ] || exit "$status"

# What the fuzzer cannot see: the erasure held, and it took nobody else's data.
expect "the erased user's POST /item" 410 "$(request "$eraser" POST /item '{"title":"after the erasure"}')"
grep -q '"account_erased"' "$work/body" || { echo "error: the 410 is not account_erased: $(cat "$work/body")" >&2; exit 1; }
expect "DELETE /account repeated" 200 "$(request "$eraser" DELETE /account)"
first="$(cat "$work/body")"
expect "DELETE /account repeated again" 200 "$(request "$eraser" DELETE /account)"
[ "$(cat "$work/body")" = "$first" ] || { echo "error: a repeated erasure answered another receipt: $first, then $(cat "$work/body")" >&2; exit 1; }
expect "the erased user's GET /item" 200 "$(request "$eraser" GET /item)"
grep -q '"items":\[\]' "$work/body" || { echo "error: the erased user still lists todos: $(cat "$work/body")" >&2; exit 1; }
expect "owner's POST /item after another user's erasure" 201 "$(request "$owner" POST /item '{"title":"still here"}')"
echo "DELETE /account held: the erased user's commands answer 410 account_erased, a repeat the same receipt; owner unaffected"
exit "$status"
