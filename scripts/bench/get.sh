#!/usr/bin/env bash
# Benchmarks of `nettool get` against curl, in the same run, on loopback only:
#   get_small_wall     one small GET, whole process, median wall time (hyperfine)
#   get_1gib_tput      a 1 GiB body written to /dev/null, throughput
#   get_1gib_rss       peak RSS while doing it (/usr/bin/time -v)
#   get_1gib_file      a 1 GiB body written to a regular file on disk
#                      (-O FILE vs curl -o FILE), wall time
# Both clients fetch from the same `nettool serve http` on 127.0.0.1.
# Prints one TSV line per benchmark on stdout; progress on stderr.
# Uses $NETTOOL, else builds nettool into a temp dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
for tool in curl hyperfine jq /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "get.sh: $tool is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
tmp=$(mktemp -d)
srv_pid=""
# -O FILE writes go to a disk-backed directory (/var/tmp, not a tmpfs /tmp).
disk=$(mktemp -d -p "${GET_BENCH_DISK_DIR:-/var/tmp}")
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp" "$disk"; }
trap cleanup EXIT
if [ -z "${NETTOOL:-}" ]; then
  echo "get.sh: building nettool" >&2
  NETTOOL="$tmp/nettool"
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$NETTOOL" ./cmd/nettool
fi

# The server: nettool's own, on a port the OS picks; its first stdout line
# names the URL.
"$NETTOOL" serve http 127.0.0.1:0 >"$tmp/serve.out" 2>/dev/null &
srv_pid=$!
for _ in $(seq 100); do
  [ -s "$tmp/serve.out" ] && break
  sleep 0.05
done
url=$(awk '{print $4; exit}' "$tmp/serve.out")
[ -n "$url" ] || { echo "get.sh: serve http did not start" >&2; exit 1; }
echo "get.sh: server at $url" >&2

# 1. One small GET, whole process.
echo "get.sh: small GET (hyperfine, 300 runs each)" >&2
hyperfine -N --warmup 30 --runs 300 --export-json "$tmp/small.json" \
  "$NETTOOL get -b $url/ip" "curl -s -o /dev/null $url/ip" >&2
nt_ms=$(jq '.results[0].median * 1000' "$tmp/small.json")
curl_ms=$(jq '.results[1].median * 1000' "$tmp/small.json")
ratio=$(awk -v a="$nt_ms" -v b="$curl_ms" 'BEGIN { printf "%.2f", a / b }')
printf 'get_small_wall\t%.2f\tcurl\t%.2f\tms\t%s\tmedian wall of one GET of /ip, whole process; ratio nettool/curl, lower is better (target <= 0.5)\n' "$nt_ms" "$curl_ms" "$ratio"

# 2. 1 GiB to /dev/null. The two clients take turns (7 runs each, after a
# warm-up) so that load from elsewhere on the machine hits both alike.
big="$url/bytes/1073741824"
echo "get.sh: 1 GiB body (7 alternating runs each)" >&2
wall() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 )); }
"$NETTOOL" get -b --max-size 0 "$big" >/dev/null; curl -s -o /dev/null "$big"
nt_us=(); curl_us=()
for _ in 1 2 3 4 5 6 7; do
  nt_us+=("$(wall "$NETTOOL" get -b --max-size 0 "$big")")
  curl_us+=("$(wall curl -s -o /dev/null "$big")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
nt_s=$(awk -v u="$(median "${nt_us[@]}")" 'BEGIN { print u / 1e6 }')
curl_s=$(awk -v u="$(median "${curl_us[@]}")" 'BEGIN { print u / 1e6 }')
echo "get.sh: nettool runs (us): ${nt_us[*]}; curl runs (us): ${curl_us[*]}" >&2
nt_gbs=$(awk -v s="$nt_s" 'BEGIN { printf "%.2f", 1073741824 / s / 1e9 }')
curl_gbs=$(awk -v s="$curl_s" 'BEGIN { printf "%.2f", 1073741824 / s / 1e9 }')
ratio=$(awk -v a="$nt_gbs" -v b="$curl_gbs" 'BEGIN { printf "%.2f", a / b }')
printf 'get_1gib_tput\t%s\tcurl\t%s\tGB/s\t%s\t1 GiB body to /dev/null, median of 7 alternating runs; ratio nettool/curl, higher is better (target >= 1)\n' "$nt_gbs" "$curl_gbs" "$ratio"

# 3. Peak RSS while doing it.
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk '/Maximum resident set size/ { print $6 }'; }
nt_kb=$(rss "$NETTOOL" get -b --max-size 0 "$big")
curl_kb=$(rss curl -s -o /dev/null "$big")
ratio=$(awk -v a="$nt_kb" -v b="$curl_kb" 'BEGIN { printf "%.2f", a / b }')
printf 'get_1gib_rss\t%.1f\tcurl\t%.1f\tMB\t%s\tpeak RSS fetching 1 GiB; ratio nettool/curl, lower is better (target: nettool < 30 MB)\n' \
  "$(awk -v k="$nt_kb" 'BEGIN { print k / 1024 }')" "$(awk -v k="$curl_kb" 'BEGIN { print k / 1024 }')" "$ratio"

# 4. 1 GiB to a regular file on disk: -O FILE against curl -o FILE, both
# replacing the file of their previous run, alternating (7 runs each). Each
# run starts on an idle disk (sync, outside the timing): both tools exit with
# the write-out they started still in flight, and without the sync that
# write-out, and the discard of the file just replaced (this VM's root is
# mounted with `discard`), fell into the other tool's next run.
echo "get.sh: 1 GiB body to a file in $disk (7 alternating runs each)" >&2
"$NETTOOL" get -q -O "$disk/nettool.bin" --max-size 0 "$big" >/dev/null; curl -s -o "$disk/curl.bin" "$big"
nt_us=(); curl_us=()
for _ in 1 2 3 4 5 6 7; do
  sync
  nt_us+=("$(wall "$NETTOOL" get -q -O "$disk/nettool.bin" --max-size 0 "$big")")
  sync
  curl_us+=("$(wall curl -s -o "$disk/curl.bin" "$big")")
done
cmp -s "$disk/nettool.bin" "$disk/curl.bin" || { echo "get.sh: -O FILE and curl -o FILE differ" >&2; exit 1; }
echo "get.sh: -O runs (us): ${nt_us[*]}; curl -o runs (us): ${curl_us[*]}" >&2
nt_s=$(awk -v u="$(median "${nt_us[@]}")" 'BEGIN { printf "%.3f", u / 1e6 }')
curl_s=$(awk -v u="$(median "${curl_us[@]}")" 'BEGIN { printf "%.3f", u / 1e6 }')
ratio=$(awk -v a="$nt_s" -v b="$curl_s" 'BEGIN { printf "%.2f", a / b }')
printf 'get_1gib_file\t%s\tcurl\t%s\ts\t%s\t1 GiB body to a regular file on disk (-O FILE vs curl -o FILE), median wall of 7 alternating runs, each after a sync; ratio nettool/curl, lower is better (target <= 1.0)\n' "$nt_s" "$curl_s" "$ratio"
