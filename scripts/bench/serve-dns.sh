#!/usr/bin/env bash
# Benchmark: dnsperf against `nettool serve dns` and against nsd, same zone
# (the built-in example.test.), same query file, same dnsperf settings, both
# on 127.0.0.1. Bounded: each dnsperf run stops after $DURATION seconds or
# $PASSES passes over the query file, whichever comes first.
#
# Prints one TSV line per benchmark on stdout:
#   benchmark  nettool_value  peer_name  peer_value  unit  ratio  note
# Progress goes to stderr. Uses $NETTOOL when set, else builds the binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

DURATION=${DURATION:-5}     # dnsperf -l
PASSES=${PASSES:-200000}    # dnsperf -n (passes over the query file)
OUTSTANDING=${OUTSTANDING:-200} # dnsperf -q
CLIENTS=${CLIENTS:-4}       # dnsperf -c (source ports)
ROUNDS=${ROUNDS:-5}         # alternating runs per server: nettool, then nsd, ROUNDS times;
                            # the ratio is the median of the rounds' ratios (the machine is
                            # shared: a single run is noisy), the spread is printed too

for tool in dnsperf nsd dig; do
  command -v "$tool" >/dev/null || { echo "serve-dns.sh: $tool is not installed (scripts/install-deps.sh)" >&2; exit 3; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

nettool=${NETTOOL:-}
if [ -z "$nettool" ]; then
  echo "building nettool" >&2
  go build -o "$work/nettool" ./cmd/nettool
  nettool="$work/nettool"
fi

# A free port (the kernel picks it; both servers then bind it for UDP and TCP).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# The same zone for both: the built-in forward zone.
"$nettool" serve dns --show-zone | sed '/^; Reverse zone/,$d' > "$work/example.test.zone"

cat > "$work/queries" <<'Q'
www.example.test A
host.example.test AAAA
example.test MX
txt.example.test TXT
alias.example.test A
nope.example.test A
host.example.test MX
example.test NS
Q

# wait_dns PORT: ask until the server answers (at most 100 tries, dig's own
# timeout bounds each).
wait_dns() {
  for _ in $(seq 1 100); do
    if [ "$(dig @127.0.0.1 -p "$1" +short +timeout=1 +tries=1 host.example.test A 2>/dev/null)" = "127.0.0.1" ]; then return 0; fi
  done
  echo "serve-dns.sh: no answer on port $1" >&2
  return 1
}

# run_perf PORT LABEL: prints "qps lost sent".
run_perf() {
  local out
  out=$(dnsperf -s 127.0.0.1 -p "$1" -d "$work/queries" -l "$DURATION" -n "$PASSES" -q "$OUTSTANDING" -c "$CLIENTS" 2>&1)
  echo "$out" | sed 's/^/  ['"$2"'] /' >&2
  local qps lost sent
  qps=$(echo "$out" | awk '/Queries per second:/ {print $4}')
  sent=$(echo "$out" | awk '/Queries sent:/ {print $3}')
  lost=$(echo "$out" | awk '/Queries lost:/ {print $3}')
  echo "${qps:-0} ${lost:-?} ${sent:-0}"
}

# nettool serve dns, no query log (-q): logging every query would measure
# the terminal.
nport=$(free_port)
"$nettool" serve dns "127.0.0.1:$nport" --zone "$work/example.test.zone" -q 2>"$work/nettool.err" &
pids+=($!)
wait_dns "$nport"

# nsd with the same zone, two server processes (nettool uses both cores too).
sport=$(free_port)
cat > "$work/nsd.conf" <<C
server:
  ip-address: 127.0.0.1@$sport
  port: $sport
  username: ""
  chroot: ""
  zonesdir: "$work"
  database: ""
  pidfile: "$work/nsd.pid"
  xfrdfile: "$work/xfrd.state"
  zonelistfile: "$work/zone.list"
  xfrdir: "$work"
  logfile: "$work/nsd.log"
  server-count: 2
  verbosity: 0
  # Response rate limiting is on by default in nsd and would drop most of
  # a benchmark's queries from one address.
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: example.test
  zonefile: example.test.zone
C
nsd -d -c "$work/nsd.conf" 2>>"$work/nsd.log" &
pids+=($!)
wait_dns "$sport"
# Each round: nettool, then nsd right after, so a round's two figures see
# about the same load; the ratio of each round is kept.
ratios=()
n_all=()
s_all=()
lost_n=0; lost_s=0; sent_n=0; sent_s=0
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round: dnsperf against nettool serve dns on 127.0.0.1:$nport" >&2
  read -r nq nl ns <<<"$(run_perf "$nport" nettool)"
  echo "round $round: dnsperf against nsd on 127.0.0.1:$sport" >&2
  read -r sq sl ss <<<"$(run_perf "$sport" nsd)"
  n_all+=("$nq"); s_all+=("$sq")
  ratios+=("$(awk -v a="$nq" -v b="$sq" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "0" }')")
  lost_n=$((lost_n + ${nl//[^0-9]/})); lost_s=$((lost_s + ${sl//[^0-9]/}))
  sent_n=$((sent_n + ${ns//[^0-9]/})); sent_s=$((sent_s + ${ss//[^0-9]/}))
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
n_qps=$(median "${n_all[@]}")
s_qps=$(median "${s_all[@]}")
ratio=$(median "${ratios[@]}")
spread=$(printf '%s\n' "${ratios[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }')
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
printf 'serve_dns_qps\t%s\tnsd\t%s\tqps\t%.2f\t%s\n' "$n_qps" "$s_qps" "$ratio" \
  "ratio = median over $ROUNDS rounds of nettool qps / nsd qps in the same round (higher is better; target >= 1.0), rounds' ratios $spread; qps columns are the medians; dnsperf -l $DURATION -n $PASSES -q $OUTSTANDING -c $CLIENTS, 8 query types, nsd server-count 2, rrl off; lost: nettool $lost_n of $sent_n, nsd $lost_s of $sent_s; load average $load"
