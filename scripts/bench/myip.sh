#!/usr/bin/env bash
# Benchmark for `nettool myip`: five stand-in providers on loopback answer
# after 20 ms, 40 ms, 60 ms, 2 s and never. With quorum 2 the answer stands
# once the 20 ms and 40 ms providers agree, so nettool should take about
# 40 ms (target <= 1.2x), not 2 s or forever.
#
# Peer: curl fetching the 40 ms provider alone, as a whole process: the
# floor for any tool that must hear from the second agreeing provider.
#
# Output: one TSV line per benchmark on stdout,
#   benchmark  nettool_value  peer_name  peer_value  unit  ratio  note
# progress on stderr. Uses $NETTOOL when set, else builds it. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"

for tool in hyperfine jq curl; do
  command -v "$tool" >/dev/null || { echo "myip.sh: $tool is not installed (scripts/install-deps.sh)" >&2; exit 3; }
done

tmp=$(mktemp -d)
fake_pid=""
cleanup() {
  exec 3>&- 2>/dev/null || true
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; wait "$fake_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

nettool=${NETTOOL:-}
if [ -z "$nettool" ]; then
  echo "myip.sh: building nettool" >&2
  go build -o "$tmp/nettool" ./cmd/nettool
  nettool="$tmp/nettool"
fi
go build -o "$tmp/myipfake" ./scripts/bench/myipfake

# The fake providers live while fd 3 (their stdin) is open, 5 minutes at most.
mkfifo "$tmp/in"
"$tmp/myipfake" -delays 20ms,40ms,60ms,2s,never -lifetime 5m <"$tmp/in" >"$tmp/urls" &
fake_pid=$!
exec 3>"$tmp/in"
for _ in $(seq 100); do
  [ "$(wc -l <"$tmp/urls")" -ge 5 ] && break
  sleep 0.1
done
[ "$(wc -l <"$tmp/urls")" -ge 5 ] || { echo "myip.sh: fake providers did not start" >&2; exit 1; }
mapfile -t urls <"$tmp/urls"
args=()
for u in "${urls[@]}"; do args+=(--provider "$u"); done
echo "myip.sh: providers ${urls[*]}" >&2

# Sanity: the answer is right and comes from the two fast providers.
out=$("$nettool" myip -4 --short --allow-documentation "${args[@]}")
[ "$out" = "203.0.113.7" ] || { echo "myip.sh: unexpected answer '$out'" >&2; exit 1; }

median_ms() { jq -r '.results[0].median * 1000' "$1"; }
min_ms() { jq -r '.results[0].min * 1000' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
fmt() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }

hf=(hyperfine -N --warmup 3 --runs 40 --style none)
cmd_short="$nettool myip -4 --short --allow-documentation ${args[*]}"
cmd_full="$nettool myip --allow-documentation ${args[*]}"
cmd_curl="curl -s -o /dev/null --noproxy * ${urls[1]}"

echo "myip.sh: hyperfine: $cmd_short" >&2
"${hf[@]}" --export-json "$tmp/short.json" "$cmd_short" >&2
echo "myip.sh: hyperfine: $cmd_full" >&2
"${hf[@]}" --export-json "$tmp/full.json" "$cmd_full" >&2
echo "myip.sh: hyperfine: $cmd_curl" >&2
"${hf[@]}" --export-json "$tmp/curl.json" "$cmd_curl" >&2

short=$(median_ms "$tmp/short.json")
full=$(median_ms "$tmp/full.json")
curl=$(median_ms "$tmp/curl.json")

printf 'myip_quorum2_5providers\t%s\tcurl_40ms_provider\t%s\tms\t%s\t%s\n' "$(fmt "$short")" "$(fmt "$curl")" "$(ratio "$short" "$curl")" \
  "median wall time of 'myip -4 --short', providers at 20ms/40ms/60ms/2s/never; ratio = nettool/curl (lower is better, target <= 1.2); min nettool $(fmt "$(min_ms "$tmp/short.json")") ms, curl $(fmt "$(min_ms "$tmp/curl.json")") ms; load $(cut -d' ' -f1 /proc/loadavg)"
printf 'myip_quorum2_vs_40ms\t%s\tsecond_agreeing_provider\t40.0\tms\t%s\t%s\n' "$(fmt "$short")" "$(ratio "$short" 40)" \
  "same run; ratio = nettool / 40 ms, the second agreeing provider's delay (target <= 1.2); with the min: $(ratio "$(min_ms "$tmp/short.json")" 40)"
printf 'myip_default_both_sides\t%s\tcurl_40ms_provider\t%s\tms\t%s\t%s\n' "$(fmt "$full")" "$(fmt "$curl")" "$(ratio "$full" "$curl")" \
  "median wall time of plain 'myip' (IPv4 and IPv6 asked, internal picture listed); ratio = nettool/curl (lower is better)"
