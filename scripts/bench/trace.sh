#!/usr/bin/env bash
# Benchmarks for `nettool trace`, against traceroute and mtr in the same run,
# on a 5-hop path of network namespaces this script builds (client, four
# routers, server; the second router never sends time exceeded) and deletes
# on exit. No packet leaves the namespaces. Prints one TSV line per
# benchmark on stdout:
#   benchmark  nettool_value  peer_name  peer_value  unit  ratio  note
# Progress goes to stderr. Needs root, ip, nft, traceroute, mtr, hyperfine and
# jq. Every command is bounded by `timeout`.
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }

for tool in ip nft traceroute mtr hyperfine jq timeout; do
	command -v "$tool" >/dev/null || { log "trace.sh: $tool is not installed (scripts/install-deps.sh)"; exit 3; }
done
[[ $(id -u) -eq 0 ]] || { log "trace.sh: needs root (network namespaces)"; exit 3; }

work=$(mktemp -d)
pfx="nt-trace-bench-$$"
nodes=(c r1 r2 r3 r4 s)
cleanup() {
	for n in "${nodes[@]}"; do ip netns del "$pfx-$n" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

if [[ -z "${NETTOOL:-}" ]]; then
	log "building nettool..."
	(cd "$(dirname "$0")/../.." && go build -o "$work/nettool" ./cmd/nettool)
	NETTOOL="$work/nettool"
fi

# Link i joins node i and node i+1: 198.51.100.4i+1/30 and .4i+2.
log "building the 5-hop path..."
for n in "${nodes[@]}"; do
	ip netns add "$pfx-$n"
	ip netns exec "$pfx-$n" sh -c 'sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.ip_forward=1; ip link set lo up'
done
last=$((${#nodes[@]} - 1))
for ((i = 0; i < last; i++)); do
	a="$pfx-${nodes[i]}" b="$pfx-${nodes[i + 1]}"
	ip link add right netns "$a" type veth peer name left netns "$b"
	ip -n "$a" addr add "198.51.100.$((4 * i + 1))/30" dev right
	ip -n "$b" addr add "198.51.100.$((4 * i + 2))/30" dev left
	ip -n "$a" link set right up
	ip -n "$b" link set left up
done
for ((n = 0; n <= last; n++)); do
	ns="$pfx-${nodes[n]}"
	for ((i = 0; i < last; i++)); do
		((i == n || i == n - 1)) && continue
		if ((i < n)); then via="198.51.100.$((4 * (n - 1) + 1))"; else via="198.51.100.$((4 * n + 2))"; fi
		ip -n "$ns" route add "198.51.100.$((4 * i))/30" via "$via"
	done
done
dst="198.51.100.$((4 * (last - 1) + 2))"
# The second router is silent: it never sends time exceeded.
ip netns exec "$pfx-r2" nft -f - <<'NFT'
table inet silent {
	chain out {
		type filter hook output priority 0;
		icmp type time-exceeded drop
	}
}
NFT
in_c() { ip netns exec "$pfx-c" "$@"; }
for _ in $(seq 1 20); do in_c ping -c 1 -W 1 "$dst" >/dev/null 2>&1 && break; done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "NaN" }'; }
mean() { jq -r ".results[] | select(.command == \"$2\") | .mean" "$1"; }

# --- 1. hop lists agree --------------------------------------------------------
nt_hops=$(timeout 20 ip netns exec "$pfx-c" "$NETTOOL" trace -n -q 3 --json "$dst" | jq -r '.traces[0].hops[] | "\(.ttl) \(if (.addrs | length) > 0 then .addrs[0].addr else "*" end)"' | tr '\n' ' ')
tr_hops=$(timeout 20 ip netns exec "$pfx-c" traceroute -n -q 3 -w 1 "$dst" | awk 'NR > 1 { a = "*"; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9.]+$/ && $(i+1) != "ms") { a = $i; break } print $1, a }' | tr '\n' ' ')
log "hops: nettool: $nt_hops"
log "hops: traceroute: $tr_hops"
same=no
[[ "$nt_hops" == "$tr_hops" ]] && same=yes

# --- 2. one trace, -q 3, wall time ----------------------------------------------
log "one trace with a silent hop: wall time (hyperfine)..."
timeout 300 hyperfine -N --style none --warmup 1 --runs 10 -i --export-json "$work/one.json" \
	-n nettool "ip netns exec $pfx-c $NETTOOL trace -n -q 3 $dst" \
	-n traceroute "ip netns exec $pfx-c traceroute -n -q 3 -w 1 $dst" \
	-n mtr "ip netns exec $pfx-c mtr -n --report -c 1 $dst" >&2
nt=$(mean "$work/one.json" nettool)
trt=$(mean "$work/one.json" traceroute)
mt=$(mean "$work/one.json" mtr)
printf 'trace_5hop_silent_q3\t%.3f\ttraceroute -n -q 3 -w 1\t%.3f\ts\t%s\tsame hop list: %s\n' "$nt" "$trt" "$(ratio "$nt" "$trt")" "$same"
printf 'trace_5hop_silent_q3\t%.3f\tmtr -n --report -c 1\t%.3f\ts\t%s\tsame run\n' "$nt" "$mt" "$(ratio "$nt" "$mt")"

# --- 3. -c 20 -i 0.05 report with 20% loss on the link after r3 -------------------
ip netns exec "$pfx-r3" nft -f - <<'NFT'
table inet lossy {
	chain forward {
		type filter hook forward priority 0;
		oifname "right" numgen random mod 100 < 20 drop
	}
}
NFT
log "-c 20 -i 0.05 report, 20% loss on the link after hop 3..."
start=$(date +%s.%N)
timeout 30 ip netns exec "$pfx-c" "$NETTOOL" trace -n -c 20 -i 0.05 --json "$dst" >"$work/report.json" || true
end=$(date +%s.%N)
wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
loss=$(jq -r '.traces[0].hops[-1].loss_percent' "$work/report.json")
loss4=$(jq -r '.traces[0].hops[3].loss_percent' "$work/report.json")
loss3=$(jq -r '.traces[0].hops[2].loss_percent' "$work/report.json")
printf 'trace_report_c20_i0.05\t%s\t(target)\t1.5\ts\t%s\tloss after the lossy link: hop 4 %s%%, destination %s%% (injected 20%%); hop 3 before it %s%%\n' "$wall" "$(ratio "$wall" 1.5)" "$loss4" "$loss" "$loss3"
