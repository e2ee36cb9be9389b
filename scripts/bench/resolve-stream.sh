#!/usr/bin/env bash
# Batches over TCP, DoT and DoH: `nettool resolve -f` against dnsperf -m
# tcp|dot|doh, both asking the same servers in the same run: nsd for TCP, and
# unbound (serving the zone itself as an auth-zone) for TCP, DoT and DoH. All
# on loopback, every step under `timeout`. One TSV line per figure on stdout
# (benchmark, nettool, peer, peer value, unit, ratio, note); progress on stderr.
set -euo pipefail
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
cd "$(dirname "$0")/../.."
log() { echo "resolve-stream.sh: $*" >&2; }
for tool in nsd unbound dnsperf kdig openssl; do
  command -v "$tool" >/dev/null || { log "missing $tool (scripts/install-deps.sh installs the peers)"; exit 3; }
done
work=$(mktemp -d /tmp/nettool-bench-stream.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${NETTOOL:-}" ]; then
  CGO_ENABLED=0 go build -trimpath -tags urfave_cli_no_docs -ldflags="-s -w" -o "$work/nettool" ./cmd/nettool
  NETTOOL="$work/nettool"
fi
N=${N:-20000}
ROUNDS=${ROUNDS:-3}

{
  printf '$ORIGIN example.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 900 604800 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\n'
  for i in $(seq 0 999); do echo "h$i IN A 192.0.2.$((i % 250 + 1))"; done
} > "$work/example.test.zone"
for i in $(seq 0 $((N - 1))); do echo "h$((i % 1000)).example.test A"; done > "$work/names"

base=$((20000 + RANDOM % 30000))
nsd_port=$base; ub_port=$((base + 1)); dot_port=$((base + 2)); doh_port=$((base + 3))

cat > "$work/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.1@$nsd_port
  username: ""
  zonesdir: "$work"
  pidfile: "$work/nsd.pid"
  xfrdfile: "$work/xfrd.state"
  zonelistfile: "$work/zone.list"
  database: ""
  logfile: "$work/nsd.log"
  rrl-ratelimit: 0
  tcp-count: 1000
  verbosity: 0
remote-control:
  control-enable: no
zone:
  name: example.test
  zonefile: example.test.zone
CONF
nsd -d -c "$work/nsd.conf" >"$work/nsd.out" 2>&1 &
pids+=($!)

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cat > "$work/unbound.conf" <<CONF
server:
  interface: 127.0.0.1@$ub_port
  interface: 127.0.0.1@$dot_port
  interface: 127.0.0.1@$doh_port
  tls-port: $dot_port
  https-port: $doh_port
  tls-service-key: "$work/key.pem"
  tls-service-pem: "$work/cert.pem"
  http-notls-downstream: no
  username: ""
  chroot: ""
  directory: "$work"
  pidfile: "$work/unbound.pid"
  do-daemonize: no
  use-syslog: no
  logfile: "$work/unbound.log"
  num-threads: 1
  incoming-num-tcp: 512
  http-max-streams: 1000
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  local-zone: "test." nodefault
  do-not-query-localhost: yes
  ratelimit: 0
  verbosity: 0
auth-zone:
  name: "example.test"
  zonefile: "$work/example.test.zone"
  for-downstream: yes
  for-upstream: yes
  fallback-enabled: no
remote-control:
  control-enable: no
CONF
unbound -d -c "$work/unbound.conf" >"$work/unbound.out" 2>&1 &
pids+=($!)
for port in $nsd_port $ub_port; do
  ok=""
  for _ in $(seq 1 50); do
    if kdig @127.0.0.1 -p "$port" +tcp example.test SOA +time=1 +retry=0 +short 2>/dev/null | grep -q hostmaster; then ok=1; break; fi
    sleep 0.1 # pacing between polls of a server that is starting
  done
  [ -n "$ok" ] || { log "server on $port did not start: $(cat "$work/nsd.out" "$work/unbound.out")"; exit 3; }
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "NaN"; else printf "%.2f", a / b }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# one_case NAME SERVER-SPEC DNSPERF-ARGS...
one_case() {
  local name=$1 spec=$2; shift 2
  : > "$work/nt.q"; : > "$work/dp.q"; local lost_nt=0 lost_dp=0
  for run in $(seq 1 "$ROUNDS"); do
    timeout 120 "$NETTOOL" resolve -f "$work/names" "@$spec" -k --timeout 5s -o jsonl >/dev/null 2>"$work/nt.err" || true
    q=$(grep -o '[0-9.]* qps' "$work/nt.err" | awk '{print $1}')
    noerr=$(grep -o 'noerror [0-9]*' "$work/nt.err" | awk '{print $2}')
    lost_nt=$(( lost_nt + N - ${noerr:-0} ))
    echo "${q:-0}" >> "$work/nt.q"
    timeout 120 dnsperf -s 127.0.0.1 "$@" -d "$work/names" -n 1 >"$work/dp.out" 2>&1 || true
    q=$(awk '/Queries per second/ { print $4 }' "$work/dp.out")
    l=$(awk '/Queries lost/ { print $3 }' "$work/dp.out")
    lost_dp=$(( lost_dp + ${l:-$N} ))
    echo "${q:-0}" >> "$work/dp.q"
    log "$name run $run: nettool $(tail -1 "$work/nt.q") qps, dnsperf $(tail -1 "$work/dp.q") qps"
  done
  local nt dp
  nt=$(median < "$work/nt.q"); dp=$(median < "$work/dp.q")
  printf '%s\t%.0f\tdnsperf\t%.0f\tqueries/s\t%s\tnettool/dnsperf, higher is better; median of %d runs (nettool %s; dnsperf %s); lost: nettool %d, dnsperf %d\n' \
    "$name" "$nt" "$dp" "$(ratio "$nt" "$dp")" "$ROUNDS" "$(sort -n "$work/nt.q" | tr '\n' ' ')" "$(sort -n "$work/dp.q" | tr '\n' ' ')" "$lost_nt" "$lost_dp"
}
one_case resolve_batch_tcp_nsd_qps "tcp://127.0.0.1:$nsd_port" -p "$nsd_port" -m tcp
one_case resolve_batch_tcp_unbound_qps "tcp://127.0.0.1:$ub_port" -p "$ub_port" -m tcp
one_case resolve_batch_dot_unbound_qps "tls://127.0.0.1:$dot_port" -p "$dot_port" -m dot
one_case resolve_batch_doh_unbound_qps "https://127.0.0.1:$doh_port/dns-query" -p "$doh_port" -m doh
