#!/usr/bin/env bash
# Builds Jaeger (v1.76.0, the OTel-collector-based "v2" binary: OTLP receiver,
# in-memory trace store and JSON query API) into <repo>/.local/bin/jaeger from
# the tools module infra/tools/jaeger. Jaeger's go.mod has replace directives,
# so `go install pkg@version` is refused; the tools module repeats them.
# Idempotent: skipped when the binary is there and its build info (go version -m)
# names the pinned version.
# Slow the first time: about 6 minutes on 2 cores, a ~120 MB binary.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/.local/bin/jaeger"
version=v1.76.0

say() { printf '[tools] %s\n' "$*" >&2; }

if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null |
  grep -Eq "^[[:space:]]*(mod|dep)[[:space:]]+github.com/jaegertracing/jaeger[[:space:]]+$version[[:space:]]"; then
  exit 0
fi
mkdir -p "$root/.local/bin"
say "building jaeger $version (Go module proxy; ~6 min on 2 cores)"
tmp="$bin.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(cd "$root/infra/tools/jaeger" &&
  CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$tmp" github.com/jaegertracing/jaeger/cmd/jaeger)
mv "$tmp" "$bin"
say "jaeger ready: $bin"
