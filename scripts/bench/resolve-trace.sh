#!/usr/bin/env bash
# Benchmark: `nettool resolve --trace` against `dig +trace` for a 4-level
# name (www.sub.example.test.: ".", "test.", "example.test.",
# "sub.example.test.", two nsd servers per zone) from the same local root, in
# the same run. dig asks one server per level and looks up the name servers'
# names through resolv.conf (here: a private mount namespace whose
# resolv.conf names a local server of every zone); nettool asks every server
# of every level, in parallel. Needs root (port 53 on 127.0.2.x, unshare -m);
# bench.sh runs it inside a loopback-only network namespace.
#
# Prints one TSV line: benchmark nettool_value peer peer_value unit ratio note
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
RUNS=${RUNS:-50} # runs of each, in alternating blocks of 10; the median is kept

for tool in nsd dig unshare hyperfine jq; do
  command -v "$tool" >/dev/null || { echo "resolve-trace.sh: $tool is not installed (scripts/install-deps.sh)" >&2; exit 3; }
done
if [ "$(id -u)" -ne 0 ] || [ -z "${NETTOOL_BENCH_NETNS:-}" ]; then
  echo "resolve-trace.sh: needs root inside bench.sh's loopback-only namespace (port 53 on 127.0.2.x)" >&2
  exit 3
fi

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
  go build -o "$work/nettool" ./cmd/nettool
  nettool="$work/nettool"
fi

zone() { # NAME FILE BODY
  # shellcheck disable=SC2016 # $TTL and $ORIGIN are zone-file directives
  printf '$TTL 300\n$ORIGIN %s\n@ SOA ns1.%s hostmaster.%s 1 3600 600 86400 300\n%s\n' "$1" "${1#.}" "${1#.}" "$3" > "$work/$2"
}
zone . root.zone '@ NS a.root-servers.test.
@ NS b.root-servers.test.
test. NS ns1.test.
test. NS ns2.test.
ns1.test. A 127.0.2.3
ns2.test. A 127.0.2.4
a.root-servers.test. A 127.0.2.1
b.root-servers.test. A 127.0.2.2'
zone test. test.zone '@ NS ns1
@ NS ns2
ns1 A 127.0.2.3
ns2 A 127.0.2.4
a.root-servers A 127.0.2.1
b.root-servers A 127.0.2.2
example NS ns1.example
example NS ns2.example
ns1.example A 127.0.2.5
ns2.example A 127.0.2.6'
zone example.test. example.zone '@ NS ns1
@ NS ns2
ns1 A 127.0.2.5
ns2 A 127.0.2.6
sub NS ns1.sub
sub NS ns2.sub
ns1.sub A 127.0.2.7
ns2.sub A 127.0.2.8'
zone sub.example.test. sub.zone '@ NS ns1
@ NS ns2
ns1 A 127.0.2.7
ns2 A 127.0.2.8
www A 198.51.100.20'

start_nsd() { # ADDR ZONE:FILE...
  local a=$1 d="$work/nsd-$1"
  shift
  mkdir -p "$d"
  {
    printf 'server:\n  ip-address: %s\n  port: 53\n  username: ""\n  chroot: ""\n  zonesdir: "%s"\n  database: ""\n' "$a" "$work"
    printf '  pidfile: "%s/pid"\n  xfrdfile: "%s/xfrd"\n  zonelistfile: "%s/zl"\n  logfile: "%s/log"\n  server-count: 1\n  rrl-ratelimit: 0\nremote-control:\n  control-enable: no\n' "$d" "$d" "$d" "$d"
    for z in "$@"; do printf 'zone:\n  name: "%s"\n  zonefile: "%s"\n' "${z%%:*}" "${z#*:}"; done
  } > "$d/nsd.conf"
  nsd -d -c "$d/nsd.conf" 2>>"$d/log" &
  pids+=($!)
}
start_nsd 127.0.2.1 .:root.zone
start_nsd 127.0.2.2 .:root.zone
start_nsd 127.0.2.3 test.:test.zone
start_nsd 127.0.2.4 test.:test.zone
start_nsd 127.0.2.5 example.test.:example.zone
start_nsd 127.0.2.6 example.test.:example.zone
start_nsd 127.0.2.7 sub.example.test.:sub.zone
start_nsd 127.0.2.8 sub.example.test.:sub.zone
start_nsd 127.0.2.100 .:root.zone test.:test.zone example.test.:example.zone sub.example.test.:sub.zone
for a in 1 2 3 4 5 6 7 8 100; do
  ok=
  for _ in $(seq 1 100); do
    if dig @127.0.2.$a +norec +short +timeout=1 +tries=1 . SOA >/dev/null 2>&1 || dig @127.0.2.$a +norec +timeout=1 +tries=1 test. SOA 2>/dev/null | grep -q 'status: NOERROR\|status: REFUSED'; then ok=1; break; fi
  done
  [ -n "$ok" ] || { echo "resolve-trace.sh: nsd on 127.0.2.$a does not answer" >&2; exit 1; }
done
printf '. NS a.root-servers.test.\n. NS b.root-servers.test.\na.root-servers.test. A 127.0.2.1\nb.root-servers.test. A 127.0.2.2\n' > "$work/hints"
echo "nameserver 127.0.2.100" > "$work/resolv.conf"

# Both run inside one private mount namespace whose resolv.conf names the
# server of every zone (dig looks name servers up through it; nettool's trace
# never reads it), so neither timing includes the namespace set-up. Whole
# processes timed by hyperfine -N (no shell in between), in alternating
# blocks of 10 runs of each; the page cache is dropped first, so that the
# freshly built nettool's pages come from disk as the installed dig's do (a
# binary just written maps in smaller pieces: more page faults per run).
sync
echo 3 > /proc/sys/vm/drop_caches
cat > "$work/loop.sh" <<'L'
set -eu
"$NT" resolve --trace --root-hints "$WORK/hints" www.sub.example.test A > "$WORK/nt.out"
dig +trace www.sub.example.test A > "$WORK/dig.out"
for r in $(seq 1 "$ROUNDS"); do
  hyperfine -N -w 2 -r 10 --export-json "$WORK/nt.$r.json" "$NT resolve --trace --root-hints $WORK/hints www.sub.example.test A" >/dev/null 2>&1
  hyperfine -N -w 2 -r 10 --export-json "$WORK/dig.$r.json" "dig +trace www.sub.example.test A" >/dev/null 2>&1
done
L
ROUNDS=$(( (RUNS + 9) / 10 )) NT=$nettool WORK=$work unshare -m sh -c "mount --bind '$work/resolv.conf' /etc/resolv.conf && exec bash '$work/loop.sh'"
mapfile -t nt < <(jq -r '.results[0].times[] | . * 1000000 | floor' "$work"/nt.*.json)
mapfile -t dg < <(jq -r '.results[0].times[] | . * 1000000 | floor' "$work"/dig.*.json)
grep -q 198.51.100.20 "$work/nt.out" || { echo "resolve-trace.sh: nettool found no answer" >&2; cat "$work/nt.out" >&2; exit 1; }
grep -q 198.51.100.20 "$work/dig.out" || { echo "resolve-trace.sh: dig found no answer" >&2; cat "$work/dig.out" >&2; exit 1; }
servers=$(grep -c '^  [├└]' "$work/nt.out" || true)
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
quart() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.1f-%.1f", a[int(NR/4)+1] / 1000, a[int(3*NR/4)] / 1000}'; }
queries=$(grep -o '[0-9]* queries' "$work/nt.out" | tail -1)
n_us=$(median "${nt[@]}")
d_us=$(median "${dg[@]}")
n_ms=$(awk -v u="$n_us" 'BEGIN { printf "%.1f", u / 1000 }')
d_ms=$(awk -v u="$d_us" 'BEGIN { printf "%.1f", u / 1000 }')
ratio=$(awk -v a="$n_us" -v b="$d_us" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "NA" }')
printf 'resolve_trace_ms\t%s\tdig +trace\t%s\tms\t%s\t%s\n' "$n_ms" "$d_ms" "$ratio" \
  "ratio = nettool / dig wall time (lower is better, goal <= 0.5); median of ${#nt[@]} runs each (hyperfine -N, alternating blocks of 10, page cache dropped first); www.sub.example.test A, 4 levels, 2 nsd servers per zone; nettool asked $servers server(s) in all ($queries), dig one per level; quartiles nettool $(quart "${nt[@]}") ms, dig $(quart "${dg[@]}") ms; whole processes, both in one mount namespace"
