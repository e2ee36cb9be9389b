#!/usr/bin/env bash
# Benchmarks for `nettool tcp` against nmap, on loopback only.
# Prints one TSV line per benchmark on stdout:
#   benchmark  nettool_value  peer_name  peer_value  unit  ratio  note
# Progress goes to stderr. Uses $NETTOOL if set, else builds the binary.
# Bounded: every hyperfine run has a fixed run count and every command a timeout.
set -euo pipefail

RUNS=${RUNS:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
srv_pid=""
cleanup() {
	if [[ -n $srv_pid ]]; then kill -INT "$srv_pid" 2>/dev/null || true; wait "$srv_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

for tool in nmap hyperfine jq; do
	command -v "$tool" >/dev/null || { echo "bench/tcp: $tool is not installed (scripts/install-deps.sh)" >&2; exit 3; }
done
if [[ -z ${NETTOOL:-} ]]; then
	echo "bench/tcp: building nettool" >&2
	(cd "$root" && go build -o "$tmp/nettool" ./cmd/nettool)
	NETTOOL=$tmp/nettool
fi

median() { jq -r ".results[$1].median" "$2"; }

# A listener of our own, so at least one port is open.
"$NETTOOL" serve echo 127.0.0.1:0 -q >"$tmp/echo.out" 2>/dev/null &
srv_pid=$!
for _ in $(seq 100); do
	addr=$(grep -o '127\.0\.0\.1:[0-9]*' "$tmp/echo.out" 2>/dev/null || true)
	[[ -n $addr ]] && break
	read -r -t 0.05 <> <(:) || true
done
[[ -n $addr ]] || { echo "bench/tcp: echo server did not start" >&2; exit 3; }
port=${addr##*:}
echo "bench/tcp: echo server on $addr" >&2

# 1. Full connect scan of 127.0.0.1, ports 1-65535.
echo "bench/tcp: full scan, $RUNS runs each (nettool, nmap -sT -p-)" >&2
hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$tmp/scan.json" \
	-n nettool "timeout 120 $NETTOOL tcp 127.0.0.1 -p - -q -o jsonl" \
	-n nmap "timeout 120 nmap -sT -p- -n -Pn 127.0.0.1" >/dev/null 2>&1
ours=$(median 0 "$tmp/scan.json")
theirs=$(median 1 "$tmp/scan.json")
# Same open ports? Runs of each, back to back; other processes on this
# machine open and close loopback listeners, so up to 3 pairs are tried.
same=""
for try in 1 2 3; do
	timeout 120 "$NETTOOL" tcp 127.0.0.1 -p - -q -o jsonl | jq -r 'select(.type=="tcp_port" and .state=="open") | .port' | sort -n >"$tmp/ours.txt" || true
	timeout 120 nmap -sT -p- -n -Pn 127.0.0.1 -oG - | grep -o '[0-9]*/open/tcp' | cut -d/ -f1 | sort -n >"$tmp/nmap.txt" || true
	if cmp -s "$tmp/ours.txt" "$tmp/nmap.txt"; then
		same="same $(wc -l <"$tmp/ours.txt") open ports as nmap (pair $try)"
		break
	fi
	echo "bench/tcp: open ports differ (pair $try): nettool [$(paste -sd, "$tmp/ours.txt")] nmap [$(paste -sd, "$tmp/nmap.txt")]" >&2
done
[[ -n $same ]] || same="OPEN PORTS DIFFERED in 3 back-to-back pairs (see stderr; other processes' listeners come and go)"
ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN{printf "%.2f", a/b}')
load=$(cut -d' ' -f1 /proc/loadavg)
printf 'tcp_full_scan_127.0.0.1\t%.3f\tnmap -sT -p- -n -Pn\t%.3f\ts\t%s\tratio = nettool/nmap median wall time, lower is better (target <= 0.5); %s; load average %s on %s cores (both tools spend about 1 s of kernel CPU; nettool uses every core, nmap one)\n' "$ours" "$theirs" "$ratio" "$same" "$load" "$(nproc)"

# 2. One connect test, whole process.
echo "bench/tcp: one connect test to $addr, whole process" >&2
hyperfine --style none --warmup 3 --runs $((RUNS * 10)) --export-json "$tmp/one.json" \
	-n nettool "$NETTOOL tcp $addr -c 1 -q" \
	-n nmap "nmap -sT -p $port -n -Pn 127.0.0.1" >/dev/null 2>&1
ours=$(median 0 "$tmp/one.json")
theirs=$(median 1 "$tmp/one.json")
ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN{printf "%.2f", a/b}')
printf 'tcp_connect_once_process\t%.4f\tnmap -sT -p PORT -n -Pn\t%.4f\ts\t%s\tratio = nettool/nmap median wall time of one whole process, lower is better\n' "$ours" "$theirs" "$ratio"
