#!/usr/bin/env bash
# Benchmarks for `nettool ping`, against fping and iputils ping in the same
# run, on loopback only. Prints one TSV line per benchmark on stdout:
#   benchmark  nettool_value  peer_name  peer_value  unit  ratio  note
# Progress goes to stderr. Needs root (or an ICMP socket), fping, ping,
# hyperfine and jq. Every command is bounded by `timeout`.
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }

for tool in fping ping hyperfine jq timeout; do
	command -v "$tool" >/dev/null || { log "ping.sh: $tool is not installed (scripts/install-deps.sh)"; exit 3; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ -z "${NETTOOL:-}" ]]; then
	log "building nettool..."
	(cd "$(dirname "$0")/../.." && go build -o "$work/nettool" ./cmd/nettool)
	NETTOOL="$work/nettool"
fi

# 1,000 loopback hosts: 127.0.1.1 .. 127.0.4.250.
hosts="$work/hosts"
for b in 1 2 3 4; do for c in $(seq 1 250); do echo "127.0.$b.$c"; done; done >"$hosts"
n=$(wc -l <"$hosts")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "NaN" }'; }

# --- 1. 1,000 hosts x 3 probes: completeness, then wall time -----------------
log "1000 hosts x 3 probes: checking every reply arrives..."
nt_recv=$(timeout 30 "$NETTOOL" ping -q -c 3 -i 0.01 --file "$hosts" --json | jq '.received')
fp_recv=$(timeout 60 fping -q -c 3 -i 1 -p 10 -f "$hosts" 2>&1 | awk -F'[/ ]+' '/xmt\/rcv/ { s += $7 } END { print s + 0 }')
log "received: nettool $nt_recv/$((n * 3)), fping $fp_recv/$((n * 3))"

log "1000 hosts x 3 probes: wall time (hyperfine)..."
timeout 300 hyperfine -N --style none --warmup 1 --runs 5 -i --export-json "$work/multi.json" \
	-n nettool "$NETTOOL ping -q -c 3 -i 0.01 --file $hosts" \
	-n fping "fping -q -c 3 -i 1 -p 10 -f $hosts" >&2
nt_ms=$(jq '.results[] | select(.command=="nettool") | .mean * 1000' "$work/multi.json")
fp_ms=$(jq '.results[] | select(.command=="fping") | .mean * 1000' "$work/multi.json")
printf 'ping_1000_hosts_x3_wall\t%.1f\tfping -q -c 3 -i 1 -p 10\t%.1f\tms\t%s\tnettool/fping, lower is better; target nettool <= 1000 ms; replies received: nettool %s/%s, fping %s/%s; nettool -i 0.01 (10 ms per host, like fping -p 10) spreads each round over the interval, fping -i 1 also waits 1 ms between any two packets\n' \
	"$nt_ms" "$fp_ms" "$(ratio "$nt_ms" "$fp_ms")" "$nt_recv" "$((n * 3))" "$fp_recv" "$((n * 3))"

log "1000 hosts x 3 probes with fping's pacing (--gap 0.001: 1 ms between any two probes)..."
timeout 300 hyperfine -N --style none --warmup 1 --runs 3 -i --export-json "$work/paced.json" \
	-n nettool "$NETTOOL ping -q -c 3 -i 0.01 --gap 0.001 --file $hosts" >&2
ntp_ms=$(jq '.results[0].mean * 1000' "$work/paced.json")
ntp_recv=$(timeout 30 "$NETTOOL" ping -q -c 3 -i 0.01 --gap 0.001 --file "$hosts" --json | jq '.received')
printf 'ping_1000_hosts_x3_wall_fping_pacing\t%.1f\tfping -q -c 3 -i 1 -p 10\t%.1f\tms\t%s\tnettool --gap 0.001 (the same 1 ms between any two packets as fping -i 1) / fping, lower is better; replies received: nettool %s/%s\n' \
	"$ntp_ms" "$fp_ms" "$(ratio "$ntp_ms" "$fp_ms")" "$ntp_recv" "$((n * 3))"

# --- 2. Average RTT to 127.0.0.1 vs iputils ping --------------------------------
rounds=10
log "average RTT to 127.0.0.1: $rounds alternating rounds of 20 probes each..."
nt_sum=0
ip_sum=0
pb_sum=0
add() { awk -v s="$1" -v x="$2" 'BEGIN { print s + x }'; }
for i in $(seq 1 "$rounds"); do
	ip_avg=$(timeout 30 ping -q -c 20 -i 0.01 127.0.0.1 | awk -F'/' '/^rtt/ { print $5 }')
	nt_avg=$(timeout 30 "$NETTOOL" ping -q -c 20 -i 0.01 127.0.0.1 --json | jq '.hosts[0].rtt_avg_ms')
	pb_avg=$(timeout 30 "$NETTOOL" ping --engine pro-bing -q -c 20 -i 0.01 127.0.0.1 --json | jq '.hosts[0].rtt_avg_ms')
	log "  round $i: iputils $ip_avg ms, nettool $nt_avg ms, nettool --engine pro-bing $pb_avg ms"
	ip_sum=$(add "$ip_sum" "$ip_avg")
	nt_sum=$(add "$nt_sum" "$nt_avg")
	pb_sum=$(add "$pb_sum" "$pb_avg")
done
mean() { awk -v s="$1" -v r="$rounds" 'BEGIN { printf "%.4f", s / r }'; }
nt_rtt=$(mean "$nt_sum")
ip_rtt=$(mean "$ip_sum")
pb_rtt=$(mean "$pb_sum")
printf 'ping_rtt_avg_127.0.0.1\t%s\tping -c 20 -i 0.01 (iputils)\t%s\tms\t%s\tnettool/iputils average RTT, mean of %d alternating rounds of 20 probes; target <= 1.5\n' \
	"$nt_rtt" "$ip_rtt" "$(ratio "$nt_rtt" "$ip_rtt")" "$rounds"
printf 'ping_rtt_avg_127.0.0.1_pro-bing_engine\t%s\tping -c 20 -i 0.01 (iputils)\t%s\tms\t%s\tnettool --engine pro-bing / iputils average RTT, same rounds: why the native engine is the default\n' \
	"$pb_rtt" "$ip_rtt" "$(ratio "$pb_rtt" "$ip_rtt")"

# --- 3. One probe, whole process --------------------------------------------------
log "one probe to 127.0.0.1, whole process (hyperfine)..."
timeout 120 hyperfine -N --style none --warmup 3 --runs 30 --export-json "$work/one.json" \
	-n nettool "$NETTOOL ping -q -c 1 127.0.0.1" \
	-n ping "ping -q -c 1 127.0.0.1" >&2
nt1=$(jq '.results[] | select(.command=="nettool") | .mean * 1000' "$work/one.json")
ip1=$(jq '.results[] | select(.command=="ping") | .mean * 1000' "$work/one.json")
printf 'ping_one_probe_wall\t%.2f\tping -q -c 1 (iputils)\t%.2f\tms\t%s\tnettool/iputils whole-process wall time, lower is better\n' \
	"$nt1" "$ip1" "$(ratio "$nt1" "$ip1")"
