#!/usr/bin/env bash
# Benchmarks of `nettool resolve` against peers, on loopback only, against a
# real nsd this script starts in a temp dir (RRL off so nsd answers every
# query). Prints one TSV line per benchmark on stdout:
#   benchmark  nettool_value  peer_name  peer_value  unit  ratio  note
# progress on stderr. Bounded: every step runs under `timeout`.
set -euo pipefail
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
cd "$(dirname "$0")/../.."

log() { echo "resolve.sh: $*" >&2; }
for tool in nsd kdig dig dnsperf hyperfine jq /usr/bin/time; do
  command -v "$tool" >/dev/null || { log "missing $tool (scripts/install-deps.sh installs the peers)"; exit 3; }
done

work=$(mktemp -d /tmp/nettool-bench-resolve.XXXXXX)
nsd_pid=""
cleanup() {
  if [ -n "$nsd_pid" ]; then kill "$nsd_pid" 2>/dev/null || true; wait "$nsd_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${NETTOOL:-}" ]; then
  # The release build: static (no cgo, no dynamic loader at start), stripped,
  # and without urfave's docs generator (its markdown package's init costs
  # about 0.4 ms per run). A plain `go build` starts about 1-2 ms slower.
  log "building nettool (CGO_ENABLED=0 -trimpath -tags urfave_cli_no_docs -ldflags='-s -w')"
  CGO_ENABLED=0 go build -trimpath -tags urfave_cli_no_docs -ldflags="-s -w" -o "$work/nettool" ./cmd/nettool
  NETTOOL="$work/nettool"
fi

cat > "$work/example.test.zone" <<'ZONE'
$ORIGIN example.test.
$TTL 300
@	IN SOA ns1.example.test. hostmaster.example.test. 2026112501 3600 900 604800 300
@	IN NS ns1.example.test.
ns1	IN A 127.0.0.1
www	IN CNAME web.example.test.
web	IN A 192.0.2.10
web	IN AAAA 2001:db8::10
@	IN MX 10 mail.example.test.
mail	IN A 192.0.2.25
@	IN TXT "v=spf1 -all"
ZONE
for i in $(seq 0 999); do echo "h$i	IN A 192.0.2.$((i % 250 + 1))"; done >> "$work/example.test.zone"

start_nsd() {
  local port=$1
  cat > "$work/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.1@$port
  username: ""
  zonesdir: "$work"
  pidfile: "$work/nsd.pid"
  xfrdfile: "$work/xfrd.state"
  zonelistfile: "$work/zone.list"
  database: ""
  logfile: "$work/nsd.log"
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
  verbosity: 0
remote-control:
  control-enable: no
zone:
  name: example.test
  zonefile: example.test.zone
CONF
  nsd -d -c "$work/nsd.conf" >"$work/nsd.out" 2>&1 &
  nsd_pid=$!
  for _ in $(seq 1 50); do
    if kdig @127.0.0.1 -p "$port" example.test SOA +time=1 +retry=0 +short 2>/dev/null | grep -q hostmaster; then return 0; fi
    kill -0 "$nsd_pid" 2>/dev/null || break
    sleep 0.1 # pacing between polls: a refused query returns at once
  done
  kill "$nsd_pid" 2>/dev/null || true; wait "$nsd_pid" 2>/dev/null || true; nsd_pid=""
  return 1
}
port=""
for _ in 1 2 3 4 5; do
  p=$((20000 + RANDOM % 40000))
  if start_nsd "$p"; then port=$p; break; fi
done
[ -n "$port" ] || { log "nsd did not start: $(cat "$work/nsd.out")"; exit 3; }
log "nsd on 127.0.0.1:$port"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "NaN"; else printf "%.2f", a / b }'; }

# 1. One query, whole process: median wall time.
log "one query: hyperfine (nettool, kdig, dig)"
timeout 300 hyperfine -N --warmup 30 --runs "${RUNS:-300}" --export-json "$work/one.json" \
  "$NETTOOL resolve web.example.test A @127.0.0.1:$port" \
  "kdig @127.0.0.1 -p $port web.example.test A" \
  "dig @127.0.0.1 -p $port web.example.test A" >&2
med() { jq -r ".results[$1].median * 1000" "$work/one.json"; }
nt=$(med 0); kd=$(med 1); dg=$(med 2)
printf 'resolve_one_query_median_wall\t%.2f\tkdig\t%.2f\tms\t%s\tnettool/kdig, lower is better (target <= 1.00)\n' "$nt" "$kd" "$(ratio "$nt" "$kd")"
printf 'resolve_one_query_median_wall\t%.2f\tdig\t%.2f\tms\t%s\tnettool/dig, lower is better\n' "$nt" "$dg" "$(ratio "$nt" "$dg")"

# 2. Batch of 20,000 names: qps against dnsperf, none lost.
for i in $(seq 0 19999); do
  case $((i % 4)) in
    0) echo "h$((i % 1000)).example.test A" ;;
    1) echo "www.example.test A" ;;
    2) echo "web.example.test AAAA" ;;
    3) echo "example.test MX" ;;
  esac
done > "$work/names20k"
best_nt=0; best_dp=0; lost_nt=0; lost_dp=0
for run in 1 2 3; do
  log "batch 20k: run $run"
  timeout 120 "$NETTOOL" resolve -f "$work/names20k" "@127.0.0.1:$port" -o jsonl >/dev/null 2>"$work/nt.err" || true
  q=$(grep -o '[0-9.]* qps' "$work/nt.err" | awk '{print $1}')
  sent=$(grep -o 'sent [0-9]*' "$work/nt.err" | awk '{print $2}')
  noerr=$(grep -o 'noerror [0-9]*' "$work/nt.err" | awk '{print $2}')
  lost_nt=$(( lost_nt + 20000 - ${noerr:-0} ))
  [ "${sent:-0}" = 20000 ] || log "nettool sent ${sent:-0} of 20000"
  best_nt=$(awk -v a="$best_nt" -v b="${q:-0}" 'BEGIN { print (b > a) ? b : a }')
  timeout 120 dnsperf -s 127.0.0.1 -p "$port" -d "$work/names20k" -n 1 >"$work/dp.out" 2>&1 || true
  q=$(awk '/Queries per second/ { print $4 }' "$work/dp.out")
  l=$(awk '/Queries lost/ { print $3 }' "$work/dp.out")
  lost_dp=$(( lost_dp + ${l:-20000} ))
  best_dp=$(awk -v a="$best_dp" -v b="${q:-0}" 'BEGIN { print (b > a) ? b : a }')
done
printf 'resolve_batch_20k_qps\t%.0f\tdnsperf\t%.0f\tqueries/s\t%s\tnettool/dnsperf, higher is better (target >= 0.70); best of 3 each; lost over 3 runs: nettool %d, dnsperf %d\n' \
  "$best_nt" "$best_dp" "$(ratio "$best_nt" "$best_dp")" "$lost_nt" "$lost_dp"

# 3. Peak RSS for a 1,000,000-line file.
log "batch 1M lines: peak RSS"
for _ in $(seq 1 50); do cat "$work/names20k"; done > "$work/names1m"
/usr/bin/time -v timeout 300 "$NETTOOL" resolve -f "$work/names1m" "@127.0.0.1:$port" -o jsonl >/dev/null 2>"$work/nt1m.err" || true
rss_nt=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$work/nt1m.err")
sum=$(grep ';; batch' "$work/nt1m.err" || true)
log "nettool 1M: $sum"
/usr/bin/time -v timeout 300 dnsperf -s 127.0.0.1 -p "$port" -d "$work/names1m" -n 1 >"$work/dp1m.out" 2>"$work/dp1m.err" || true
rss_dp=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$work/dp1m.err")
printf 'resolve_batch_1m_peak_rss\t%.1f\tdnsperf\t%.1f\tMB\t%s\tnettool/dnsperf, lower is better (target: nettool < 50 MB); %s\n' \
  "$(awk -v k="$rss_nt" 'BEGIN { print k / 1024 }')" "$(awk -v k="$rss_dp" 'BEGIN { print k / 1024 }')" "$(ratio "$rss_nt" "$rss_dp")" "$(echo "$sum" | sed 's/^;; //')"
