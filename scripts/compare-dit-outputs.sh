#!/usr/bin/env bash
# Runs two builds of `dit` on the same inputs and compares every output byte for byte: the
# evidence that a speed change (docs/PERFORMANCE.md) changed no output.
#
#   scripts/compare-dit-outputs.sh OLD_DIT NEW_DIT [RECORDS]
#
# Inputs: the sample files and messages (events/), then a generated load of RECORDS APP records
# (default 60000) over 200 trusts, written by NEW_DIT's `dit bench --write`. Compared: the
# outbound folder (APC, notifications, reports, MEDROTs, e-mails) and what `dit` printed. The one
# value masked is `handled_at` in the answers to trust messages: the time the message was handled
# (the clock, by design; see docs/ARCHITECTURE.md), so it differs between any two runs.
# Exit status 0 when everything is identical, 1 on the first difference.
set -euo pipefail
cd "$(dirname "$0")/.."

old="$(realpath "$1")"
new="$(realpath "$2")"
records="${3:-60000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$new" bench --records "$records" --trusts 200 --write "$work/load" >/dev/null

run() { # name, binary
  local data="$work/$1"
  {
    "$2" --data-dir "$data/samples" process events/files/ || echo "exit $?"
    "$2" --data-dir "$data/samples" action events/messages/walkthrough.jsonl || echo "exit $?"
    "$2" --data-dir "$data/samples" remind --date 2027-01-29 || echo "exit $?"
    "$2" --data-dir "$data/load" process "$work/load" || echo "exit $?"
  } 2>&1 | sed "s|$data|DATA|g" >"$work/$1.out"
}
run old "$old"
run new "$new"

# The answers' handled_at is the clock of each run: masked in both copies, counted.
masked=$(grep -rl '"handled_at": "' "$work"/old/*/outbound "$work"/new/*/outbound | wc -l)
grep -rl '"handled_at": "' "$work"/old/*/outbound "$work"/new/*/outbound |
  xargs -r sed -i -E 's/"handled_at": "[^"]*"/"handled_at": "(masked)"/'
echo "handled_at masked in $masked files"

status=0
for set in samples load; do
  if diff -r "$work/old/$set/outbound" "$work/new/$set/outbound" >"$work/diff" 2>&1; then
    echo "$set: $(find "$work/new/$set/outbound" -type f | wc -l) output files identical"
  else
    head -20 "$work/diff"; echo "$set: outputs differ"; status=1
  fi
done
if diff "$work/old.out" "$work/new.out"; then
  echo "printed output identical ($(wc -l <"$work/new.out") lines)"
else
  echo "printed output differs"; status=1
fi
exit "$status"
