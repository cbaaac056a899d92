#!/usr/bin/env bash
# Runs every fuzz target for a bounded time: $1 seconds each (default 60).
# Exits nonzero if any target finds a crash (the input is saved under fuzz/artifacts/).
# FUZZ_TARGETS="chunked" (say) runs only the targets named.
#
# Only stable Rust is installed here: RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the nightly
# flags it needs (-Zsanitizer=address and friends) on the stable compiler.
set -uo pipefail
cd "$(dirname "$0")"

SECONDS_EACH="${1:-60}"
if ! [[ "$SECONDS_EACH" =~ ^[0-9]+$ ]] || [ "$SECONDS_EACH" -lt 1 ]; then
  echo "usage: $0 [seconds per target]" >&2
  exit 2
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz not found: installing it (a few minutes)" >&2
  cargo install cargo-fuzz --locked || exit 2
fi

failed=0
for target in ${FUZZ_TARGETS:-request_head chunked}; do
  mkdir -p "corpus/$target"
  extra=()
  if [ "$target" = request_head ]; then
    extra+=("-dict=http.dict")
  fi
  echo "=== $target: ${SECONDS_EACH}s ==="
  # corpus/ (gitignored) collects new inputs; seeds/ holds the checked-in starting points.
  # -timeout: one input taking 10 s means a connection hung (its own timeouts are 2 s).
  if ! RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" "seeds/$target" -- \
      -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=4096 "${extra[@]}"; then
    echo "=== $target: FAILED (see fuzz/artifacts/$target/) ===" >&2
    failed=1
  else
    echo "=== $target: no crash ==="
  fi
done
exit "$failed"
