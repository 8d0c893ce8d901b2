#!/usr/bin/env bash
# The demo: build costwatch and run the daily job on the bundled demo CUR (no AWS account,
# no network). The digest lands as an .eml file in target/demo/outbox.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --bin costwatch
rm -rf target/demo && mkdir -p target/demo
bin=target/debug/costwatch
echo "== costwatch run on the demo data, as if on 2026-03-19"
$bin run --config examples/demo/costwatch.toml --date 2026-03-19
echo
echo "== the same run again: nothing is sent twice"
$bin run --config examples/demo/costwatch.toml --date 2026-03-19
echo
echo "== what the backtest would have alerted on since February"
$bin backtest --config examples/demo/costwatch.toml --from 2026-02-01 --to 2026-03-20 2>/dev/null
echo
echo "== the AWS budgets the config declares and the findings propose (no account: --offline)"
$bin budgets plan --config examples/demo/costwatch.toml --offline --proposals || [ $? -eq 6 ]
echo
echo "digest: $(ls target/demo/outbox/*.eml)"
