#!/usr/bin/env bash
# Benchmarks for `nettool serve metrics` against prometheus-blackbox-exporter,
# on loopback only, under the same module file and the same load: a real
# Prometheus scrapes 1,000 targets (500 icmp to 127.0.0.0/8 addresses, 500
# tcp to a local listener) every 5 s for 60 s, first through nettool, then
# through blackbox. Figures: failed scrapes, the exporter's CPU seconds and
# peak RSS over the window, and the latency of one http scrape.
# Prints one TSV line per benchmark on stdout:
#   benchmark  nettool_value  peer_name  peer_value  unit  ratio  note
# Bounded: every phase has a timeout, the load window is DURATION seconds.
set -euo pipefail

DURATION=${DURATION:-60}
TARGETS=${TARGETS:-1000}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

for tool in prometheus prometheus-blackbox-exporter curl jq; do
	command -v "$tool" >/dev/null || { echo "bench/metrics: $tool is not installed (scripts/install-deps.sh)" >&2; exit 3; }
done
if [[ -z ${NETTOOL:-} ]]; then
	echo "bench/metrics: building nettool" >&2
	(cd "$root" && go build -o "$tmp/nettool" ./cmd/nettool)
	NETTOOL=$tmp/nettool
fi

wait_for() { # url seconds
	for _ in $(seq $(($2 * 20))); do
		curl -sf -o /dev/null "$1" && return 0
		sleep 0.05
	done
	echo "bench/metrics: $1 did not answer within $2 s" >&2
	exit 3
}
cpu_of() { # pid -> CPU seconds (utime+stime)
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); split($0, f, " "); printf "%.2f\n", (f[12] + f[13]) / hz }' "/proc/$1/stat"
}
hwm_of() { awk '/VmHWM/ { print $2 * 1024 }' "/proc/$1/status"; }

"$NETTOOL" serve echo 127.0.0.1:19000 -q --max-clients 4096 >/dev/null 2>&1 &
pids+=($!)
"$NETTOOL" serve http 127.0.0.1:18000 -q >/dev/null 2>&1 &
pids+=($!)
cat >"$tmp/blackbox.yml" <<'YML'
modules:
  icmp:
    prober: icmp
    timeout: 4s
    icmp:
      preferred_ip_protocol: ip4
  tcp_connect:
    prober: tcp
    timeout: 4s
    tcp:
      preferred_ip_protocol: ip4
  http_2xx:
    prober: http
    timeout: 4s
    http:
      preferred_ip_protocol: ip4
YML
half=$((TARGETS / 2))
{
	echo "global: {scrape_interval: 5s, scrape_timeout: 4s}"
	echo "scrape_configs:"
	echo "  - job_name: probe"
	echo "    metrics_path: /probe"
	echo "    static_configs:"
	echo "      - labels: {__param_module: icmp}"
	echo "        targets:"
	for i in $(seq 1 "$half"); do echo "          - 127.0.$((i / 250 + 1)).$((i % 250 + 1))"; done
	echo "      - labels: {__param_module: tcp_connect}"
	echo "        targets:"
	for i in $(seq 1 "$half"); do echo "          - 127.0.0.1:19000#$i"; done
	echo "    relabel_configs:"
	echo "      - {source_labels: [__address__], regex: '([^#]*)(#.*)?', target_label: __param_target}"
	echo "      - {source_labels: [__address__], target_label: instance}"
	echo "      - {target_label: __address__, replacement: EXPORTER}"
} >"$tmp/prom.tmpl"

# run NAME CMD...: start the exporter, let Prometheus scrape it for DURATION
# seconds, print "cpu rss failed total".
run() {
	local name=$1; shift
	"$@" >/dev/null 2>&1 &
	local epid=$!
	pids+=("$epid")
	wait_for "http://127.0.0.1:19115/metrics" 15
	sed "s/EXPORTER/127.0.0.1:19115/" "$tmp/prom.tmpl" >"$tmp/prom-$name.yml"
	prometheus --config.file="$tmp/prom-$name.yml" --storage.tsdb.path="$tmp/data-$name" \
		--web.listen-address=127.0.0.1:19090 --log.level=error >/dev/null 2>&1 &
	local ppid=$!
	pids+=("$ppid")
	wait_for "http://127.0.0.1:19090/-/ready" 30
	sleep 6 # one interval for every target to be scraped once (the warm-up)
	local c0; c0=$(cpu_of "$epid")
	sleep "$DURATION"
	local c1; c1=$(cpu_of "$epid")
	local rss; rss=$(hwm_of "$epid")
	local q="sum(count_over_time(up[${DURATION}s])) - sum(sum_over_time(up[${DURATION}s]))"
	local failed; failed=$(curl -s "http://127.0.0.1:19090/api/v1/query" --data-urlencode "query=$q" | jq -r '.data.result[0].value[1]')
	local total; total=$(curl -s "http://127.0.0.1:19090/api/v1/query" --data-urlencode "query=sum(count_over_time(up[${DURATION}s]))" | jq -r '.data.result[0].value[1]')
	local okq; okq=$(curl -s "http://127.0.0.1:19090/api/v1/query" --data-urlencode "query=sum(probe_success)" | jq -r '.data.result[0].value[1]')
	kill "$ppid" "$epid"; wait "$ppid" "$epid" 2>/dev/null || true
	echo "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }') $rss $failed $total $okq"
}

echo "bench/metrics: nettool serve metrics, $TARGETS targets every 5 s for $DURATION s" >&2
read -r nt_cpu nt_rss nt_failed nt_total nt_ok < <(run nettool "$NETTOOL" serve metrics 127.0.0.1:19115 --config "$tmp/blackbox.yml" -q)
echo "bench/metrics: nettool: cpu ${nt_cpu}s rss $nt_rss failed $nt_failed of $nt_total, probe_success sum $nt_ok" >&2
echo "bench/metrics: blackbox_exporter, same load" >&2
read -r bb_cpu bb_rss bb_failed bb_total bb_ok < <(run blackbox prometheus-blackbox-exporter --config.file="$tmp/blackbox.yml" --web.listen-address=127.0.0.1:19115 --log.level=error)
echo "bench/metrics: blackbox: cpu ${bb_cpu}s rss $bb_rss failed $bb_failed of $bb_total, probe_success sum $bb_ok" >&2

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf 'metrics_1000_targets_cpu\t%s\tblackbox_exporter\t%s\ts\t%s\tscrapes: nettool %s, blackbox %s; failed: nettool %s, blackbox %s; probe_success sum %s vs %s\n' \
	"$nt_cpu" "$bb_cpu" "$(ratio "$nt_cpu" "$bb_cpu")" "$nt_total" "$bb_total" "$nt_failed" "$bb_failed" "$nt_ok" "$bb_ok"
printf 'metrics_1000_targets_peak_rss\t%s\tblackbox_exporter\t%s\tbytes\t%s\tVmHWM over the run\n' "$nt_rss" "$bb_rss" "$(ratio "$nt_rss" "$bb_rss")"

# One http scrape against serve http, each exporter alone.
url_q='probe?module=http_2xx&target=http%3A%2F%2F127.0.0.1%3A18000%2F'
"$NETTOOL" serve metrics 127.0.0.1:19115 --config "$tmp/blackbox.yml" -q >/dev/null 2>&1 &
ntp=$!; pids+=("$ntp")
prometheus-blackbox-exporter --config.file="$tmp/blackbox.yml" --web.listen-address=127.0.0.1:19116 --log.level=error >/dev/null 2>&1 &
bbp=$!; pids+=("$bbp")
wait_for "http://127.0.0.1:19115/metrics" 15
wait_for "http://127.0.0.1:19116/metrics" 15
# curl's own time_total of each scrape (connect to the last byte), 200 of
# each, alternating, after 10 warm-up scrapes each: curl's start-up is left out.
for i in $(seq 10); do curl -sf -o /dev/null "http://127.0.0.1:19115/$url_q"; curl -sf -o /dev/null "http://127.0.0.1:19116/$url_q"; done
for i in $(seq 200); do
	curl -sf -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:19115/$url_q" >>"$tmp/nt.lat"
	curl -sf -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:19116/$url_q" >>"$tmp/bb.lat"
done
med() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ours=$(med "$tmp/nt.lat")
theirs=$(med "$tmp/bb.lat")
printf 'metrics_http_scrape_latency\t%.6f\tblackbox_exporter\t%.6f\ts\t%s\tmedian of 200 alternating scrapes, curl time_total (connect to last byte)\n' "$ours" "$theirs" "$(ratio "$ours" "$theirs")"
