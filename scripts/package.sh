#!/usr/bin/env bash
# The deployable Lambda packages: the four bootstrap binaries in one `cargo lambda build` with the
# workspace's `lambda` profile (size-optimised, fat LTO, one codegen unit: docs/PERFORMANCE.md,
# "Lambda packages"), each checked to be at most 10 MB. A release build of the whole SDK stack of
# its own (about 7 minutes cold on 2 cores), so it is not part of the test command: CI (`.ci/run`)
# runs it after `scripts/test.sh`, and a deployment builds with it.
#
# Needs cargo-lambda (`pip install cargo-lambda`, which scripts/test.sh puts in its virtualenv).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${DIT_VENV:-.venv}"
if ! command -v cargo-lambda >/dev/null 2>&1 && [ -x "$venv/bin/cargo-lambda" ]; then
  PATH="$(cd "$venv" && pwd)/bin:$PATH"
fi
command -v cargo-lambda >/dev/null 2>&1 || {
  echo "cargo-lambda not found: run scripts/test.sh once (it installs it into $venv) or pip install cargo-lambda"
  exit 1
}

printf '\n== [%ss] cargo lambda build --profile lambda (inbound-file, trust-messages, scheduled-jobs, portal)\n' "$SECONDS"
cargo lambda build --profile lambda --compiler cargo --locked \
  --package inbound-file --package trust-messages --package scheduled-jobs --package portal
for function in inbound-file trust-messages scheduled-jobs portal; do
  bootstrap="${CARGO_TARGET_DIR:-target}/lambda/$function/bootstrap"
  size=$(stat -c %s "$bootstrap")
  echo "$function: $size bytes ($bootstrap)"
  # docs/PERFORMANCE.md: each package at most 10 MB.
  if [ "$size" -gt 10000000 ]; then echo "$bootstrap is over 10 MB"; exit 1; fi
done
printf '\nPackages built (%ss).\n' "$SECONDS"
