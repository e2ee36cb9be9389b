#!/usr/bin/env bash
# Runs every benchmark under scripts/bench/ and prints one table: nettool's
# figure, the peer tool's figure from the same run on the same machine, and
# the ratio. Everything runs on loopback, bounded in time. Installs the peers
# it needs (scripts/install-deps.sh). Usage: scripts/bench.sh [NAME...]
# (NAME: a file under scripts/bench/, e.g. resolve, resolve-stream, resolve-trace, start-floor,
# serve-dns, serve-echo, ping, trace, tcp, get, myip, metrics). Results also go to
# bench-results/latest.tsv.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
scripts/install-deps.sh
# As root the benchmarks run in a network namespace with only loopback: no
# packet can leave this machine.
if [ -z "${NETTOOL_BENCH_NETNS:-}" ] && [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
  go mod download
  export NETTOOL_BENCH_NETNS=1
  exec unshare -n bash -c 'ip link set lo up && exec bash scripts/bench.sh "$@"' bench "$@"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export NETTOOL="$tmp/nettool"
echo "bench: building nettool" >&2
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -trimpath -ldflags "-s -w" -o "$NETTOOL" ./cmd/nettool
# A binary just written sits in the page cache in small pieces and costs
# more page faults per start than one read from disk, as the peers' are (on
# this VM ~1.5 ms a run): drop the cache so that both come from disk alike.
if [ "$(id -u)" -eq 0 ]; then
  sync
  echo 3 > /proc/sys/vm/drop_caches
fi

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in scripts/bench/*.sh; do names+=("$(basename "$f" .sh)"); done
fi

mkdir -p bench-results
out=bench-results/latest.tsv
printf 'benchmark\tnettool\tpeer\tpeer_value\tunit\tratio\tnote\n' > "$out"
status=0
for n in "${names[@]}"; do
  echo "bench: $n" >&2
  if ! timeout 600 bash "scripts/bench/$n.sh" >> "$out"; then
    echo "bench: $n failed" >&2
    status=1
  fi
done
echo
echo "nettool $("$NETTOOL" --version | cut -d' ' -f2-), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
column -t -s $'\t' "$out"
exit $status
