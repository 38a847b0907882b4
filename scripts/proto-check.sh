#!/usr/bin/env bash
# Checks the agent protocol: proto/ passes `buf lint` and `buf format`, and gen/ is exactly what
# `buf generate` produces from it today. Exits 1 with the reason on the first failure.
# Regenerate with `npx buf generate` (never edit gen/ by hand).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Use the project's pinned buf and protoc-gen-es, never whatever else is on PATH.
export PATH="$PWD/node_modules/.bin:$PATH"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/vigo-proto-check.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

if ! buf lint; then
  echo "proto-check: buf lint failed (see above); fix proto/ before regenerating." >&2
  exit 1
fi

if ! buf format --diff --exit-code >"$tmp/format.diff"; then
  cat "$tmp/format.diff" >&2
  echo "proto-check: proto/ is not buf-formatted; run \`npx buf format -w\`." >&2
  exit 1
fi

buf generate --output "$tmp"
if ! diff -ru gen "$tmp/gen" >"$tmp/gen.diff"; then
  head -n 60 "$tmp/gen.diff" >&2
  echo "proto-check: gen/ is stale: it differs from what proto/ generates (diff above)." >&2
  echo "proto-check: run \`npx buf generate\` and commit gen/ together with the .proto change." >&2
  exit 1
fi

echo "proto-check: proto/ lints clean and gen/ is up to date."
