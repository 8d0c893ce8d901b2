#!/usr/bin/env bash
# Builds the bundled rule plugins (plugins/*) for wasm32-wasip2 and copies them to DEST, where
# a config finds them by name (`plugin = "nat-gateway"`). DEST defaults to where costwatch looks
# beside a binary from `cargo install --path .`: $CARGO_HOME/share/costwatch/plugins.
#   scripts/build-plugins.sh [DEST]
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${1:-${CARGO_HOME:-$HOME/.cargo}/share/costwatch/plugins}"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi
mkdir -p "$dest"
for dir in plugins/*/; do
  name="$(basename "$dir")"
  cargo build --quiet --release --locked --target wasm32-wasip2 \
    --manifest-path "$dir/Cargo.toml" --target-dir target/wasm
  cp "target/wasm/wasm32-wasip2/release/${name//-/_}.wasm" "$dest/"
  echo "$dest/${name//-/_}.wasm"
done
