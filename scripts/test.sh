#!/usr/bin/env bash
# nettool's test command (named in README.md; CI runs it through .ci/run):
# formatting, vet, staticcheck, and every test with the race detector,
# interop tests against real peers included (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

scripts/install-deps.sh
go mod download

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "== go test -race"
# NETTOOL_REQUIRE_PEERS makes a test fail, not skip, when a peer tool (dig,
# nsd, nginx, ...) or root for ICMP and network namespaces is missing.
export NETTOOL_REQUIRE_PEERS="${NETTOOL_REQUIRE_PEERS:-1}"
# As root the tests run in a network namespace of their own that has only a
# loopback interface (their own namespaces and veths are made inside it), so
# no test can send a packet off this machine, whatever it tries.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
  echo "(in a network namespace with only loopback)"
  unshare -n bash -c 'ip link set lo up && exec go test -race -count=1 -timeout 12m ./...'
else
  go test -race -count=1 -timeout 12m ./...
fi
