#!/usr/bin/env bash
# Detection quality on the labelled scenarios (the public ones in ../shared/scenarios/public
# and the rougher ones in tests/scenarios): backtests each one with the release binary and
# scores it with ../shared/scenarios/score.py, then prints the totals.
#
#   scripts/score-public.sh                      # built-in rules with their defaults
#   scripts/score-public.sh --config my.toml     # the rules and settings of a config
#
# Extra arguments go to `costwatch backtest` (e.g. --config for tuned or ablated rules).
set -euo pipefail
cd "$(dirname "$0")/.."
scenarios=../shared/scenarios
if [[ ! -d $scenarios/public ]]; then
  echo "no labelled scenarios in $scenarios/public (the ../shared folder beside the checkout)" >&2
  exit 1
fi
cargo build --release --locked --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for dir in "$scenarios"/public/*/ tests/scenarios/rough-*/; do
  name=$(basename "$dir")
  read -r from to < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["evaluate_from"], d["last_day"])' "$dir/labels.json")
  target/release/costwatch --log-format json backtest --ledger "$work/$name.db" --data "$dir" \
    --from "$from" --to "$to" --format json "$@" > "$work/$name.json" 2>"$work/$name.log"
  python3 "$scenarios/score.py" "$dir/labels.json" "$work/$name.json" --json > "$work/$name.score"
  python3 -c 'import json,sys; s=json.load(open(sys.argv[2])); print(f"{sys.argv[1]}: {s}")' "$name" "$work/$name.score"
done

python3 - "$work" <<'EOF'
import glob, json, sys
scores = [json.load(open(p)) for p in sorted(glob.glob(sys.argv[1] + "/*.score"))]
labels = sum(s["labels"] for s in scores)
detected = sum(s["detected"] for s in scores)
alerts = sum(s["alerts"] for s in scores)
false = sum(s["false_alarms"] for s in scores)
precision = 1.0 if alerts == 0 else 1 - false / alerts
print(f"recall {detected / labels:.3f} ({detected}/{labels}), precision {precision:.3f} ({alerts} alerts, {false} false)")
EOF
