#!/usr/bin/env bash
# The project's one test command (README, "Testing"); CI runs exactly this.
#
# Installs what the tests need into a project-local virtualenv (moto_server for DynamoDB/S3/SQS,
# cfn-lint, cargo-lambda), then checks formatting and lints, runs every test (the moto tests start
# and stop their own moto_server on a free loopback port), lints the SAM template and audits its
# IAM roles against what the tests saw each function use, runs the samples through dit and through
# the local cloud (scripts/local-cloud.sh) and the portal in Chromium. The deployable Lambda
# packages (a release build of their own) are scripts/package.sh, which CI runs after this.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${DIT_VENV:-.venv}"
step() { printf '\n== [%ss] %s\n' "$SECONDS" "$*"; }

step "python tools (scripts/local-cloud-requirements.txt: moto[server], boto3, PyYAML, cargo-lambda; and cfn-lint) in $venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r scripts/local-cloud-requirements.txt 'cfn-lint>=1.20,<2'
venv="$(cd "$venv" && pwd)"
export PATH="$venv/bin:$PATH"
export MOTO_SERVER="$venv/bin/moto_server"

step "npm ci (nhsuk-frontend styles for the portal, playwright-core for the browser test; pinned by package-lock.json)"
npm ci --no-audit --no-fund

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "module graph (no two modules of a crate import each other, directly or around a loop)"
python3 scripts/module_graph.py --self-test

step "targets without a test harness (test = false in their Cargo.toml) hold no tests"
# Each such harness would link the SDK stack again for no test; a test written there would not run.
for file in functions/*/src/main.rs shared/local-bridge/src/main.rs functions/trust-messages/src/lib.rs; do
  if grep -nE '#\[(tokio::)?test|cfg\(test\)' "$file"; then
    echo "$file holds tests, but its target is built with test = false: move them or drop that line"; exit 1
  fi
done

step "crate boundaries (the domain links no tokio, async, AWS SDK, SQLite, Lambda runtime or web stack; the services no AWS, SQLite or Lambda; functions no SQLite; dit no AWS)"
# Each pattern matches a `cargo tree --prefix none` line ("name vX.Y.Z"), with every edge kind
# (normal, build and dev): the service and handler tests that run on SQLite live in tests/, so not
# even a test of dit-core or a function pulls SQLite in.
aws='aws-[a-z0-9-]+|aws_lambda_events'
lambda='lambda_[a-z_]+'
sqlite='rusqlite|libsqlite3-sys'
crates_of() { cargo tree --locked -p "$1" --prefix none; }
forbidden() { # package, pattern
  if crates_of "$1" | grep -E "^($2) " | sort -u | grep .; then
    echo "$1 depends on crates it must not link"; exit 1
  fi
}
# A pattern that matched nothing would pass every crate: each must find what it forbids where it belongs.
crates_of inbound-file | grep -E "^($aws) " >/dev/null && crates_of inbound-file | grep -E "^($lambda) " >/dev/null \
  && crates_of dit-cli | grep -E "^($sqlite) " >/dev/null || { echo "a crate-boundary pattern matches nothing"; exit 1; }
# dit-domain is pure and synchronous: no runtime, no async traits, no HTTP or web stack either.
runtime='tokio|async-trait|futures[a-z-]*|mio'
web='hyper[a-z-]*|http|http-body[a-z-]*|axum[a-z-]*|tower[a-z-]*|askama[a-z_-]*|reqwest|rustls[a-z-]*'
crates_of dit-portal | grep -E "^($web) " >/dev/null && crates_of dit-core | grep -E "^($runtime) " >/dev/null \
  || { echo "a crate-boundary pattern matches nothing"; exit 1; }
forbidden dit-domain "$aws|$lambda|$sqlite|$runtime|$web"
forbidden dit-core "$aws|$lambda|$sqlite"
for function in inbound-file trust-messages scheduled-jobs portal; do
  forbidden "$function" "$sqlite"
done
forbidden dit-cli "$aws|$lambda"

step "cargo test (unit, handler, store contract, moto integration)"
# tests/it/iam_audit.rs records here what each function asks of AWS (checked below).
iam_audit="${CARGO_TARGET_DIR:-target}/tmp/iam-audit"
rm -rf "$iam_audit"
cargo test --workspace --locked

step "moto benchmark, quick (a 200-record APP file through the inbound handler; the 2,000-record run: docs/PERFORMANCE.md)"
# --workspace, as the test build above: the same packages selected give the same feature set, so
# nothing is compiled again (with -p dit-tests alone, 64 crates of the SDK stack were rebuilt).
cargo test --workspace --locked --bench moto_app_file

step "cfn-lint infra/template.yaml"
cfn-lint infra/template.yaml

step "template security assertions (drops fail closed, required TIS principal, MFA and threat protection, portal listings by prefix, CSRF key in Secrets Manager; each weakening caught)"
"$venv/bin/python" scripts/template_checks.py --self-test infra/template.yaml

step "IAM audit (each function's role grants exactly the actions and key kinds its code used on moto)"
"$venv/bin/python" scripts/iam_audit.py --self-test infra/template.yaml "$iam_audit"

# Every binary once, with the features the test build unified (a `cargo run --bin dit` of its own
# selects another feature set and compiles the workspace again); the steps below run these.
cargo build --workspace --bins --locked --quiet
bin_dir="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug"
export DIT_BIN="$bin_dir/dit"
dit() { "$DIT_BIN" "$@"; }

step "sample run of dit on events/files (exit status 3: the samples include quarantined files), then the sample messages"
demo="$(mktemp -d)"
trap 'rm -rf "$demo"' EXIT
status=0
dit --data-dir "$demo" process events/files/ > "$demo.out" || status=$?
if [ "$status" -ne 3 ]; then
  cat "$demo.out"; echo "dit process exited $status, expected 3"; exit 1
fi
dit --data-dir "$demo" action events/messages/walkthrough.jsonl > "$demo.out" || {
  cat "$demo.out"; echo "dit action on the sample walkthrough failed"; exit 1
}

step "sample new-starter reminder (dit remind --date 2027-01-29 on the same data, after the messages)"
dit --data-dir "$demo" remind --date 2027-01-29 > "$demo.out"
grep -q "new-starters/2027-01-29.new-starter-reminder.html" "$demo.out" || { cat "$demo.out"; echo "no reminder written"; exit 1; }

step "sample sequence check (dit check-sequences --date 2026-11-21 on the same data: APP 00000044 missing)"
dit --data-dir "$demo" check-sequences --date 2026-11-21 > "$demo.out"
grep -q "1 missing: 00000044" "$demo.out" || { cat "$demo.out"; echo "the sequence check did not list APP 00000044"; exit 1; }
rm -f "$demo.out"

step "local cloud end to end (scripts/local-cloud-test.sh: up, drop, send, tick on moto with cargo lambda watch, same bytes as dit, DLQ, down)"
DIT_VENV="$(cd "$venv" && pwd)" scripts/local-cloud-test.sh

step "browser test of the portal: Debian's chromium driven by playwright-core (from package-lock.json) against dit serve"
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
CHROMIUM="$(command -v chromium)" node --test tests/browser/

printf '\nAll checks passed.\n'
