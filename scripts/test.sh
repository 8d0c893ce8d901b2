#!/usr/bin/env bash
# The test command: installs what the tests need (idempotent), then runs every test.
#   - a Python venv in .venv with moto[server], aiosmtpd and cbor2 (the real test peers),
#     duckdb (the independent reader CUR totals are checked against) and componentize-py (which
#     builds the Python rule plugins)
#   - the wasm32-wasip2 Rust target for the rule plugins
#   - Debian's chromium, which renders the digest and the report in tests/alerts.rs
# Tests only talk to 127.0.0.1; dummy AWS credentials keep the SDK away from real AWS and
# from the instance metadata address.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import moto, aiosmtpd, cbor2, duckdb, componentize_py' 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/emulator/requirements.txt
fi

# The WebAssembly target the rule plugins build for (tests/plugins.rs builds them into
# target/wasm); a no-op once installed.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi

# A real browser for the rendering check (as root, or through sudo).
if ! command -v chromium >/dev/null; then
  as_root=$([[ $(id -u) == 0 ]] && echo "" || echo sudo)
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export COSTWATCH_TEST_PYTHON="$PWD/.venv/bin/python"

# With the `lambda` feature: the Lambda bootstrap is built and tested against a Runtime API too.
cargo test --workspace --locked --features lambda "$@"
