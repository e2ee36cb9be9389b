#!/usr/bin/env bash
# Benchmark for `nettool serve echo` against `socat ... PIPE`, on loopback
# only: 500 clients at once each send 1 MiB in 64 KiB writes and read the
# echo back (scripts/bench/echoload), against `nettool serve echo -q
# --chunk 65536`, `nettool serve echo --chunk 65536` (logging every chunk)
# and socat forking a PIPE per client. Prints TSV lines on stdout:
#   benchmark  nettool_value  peer_name  peer_value  unit  ratio  note
# Bounded: the load client has a 120 s deadline, every server is stopped.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
srv_pid=""
cleanup() {
	if [[ -n $srv_pid ]]; then kill -INT "$srv_pid" 2>/dev/null || true; wait "$srv_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

command -v socat >/dev/null || { echo "bench/serve-echo: socat is not installed (scripts/install-deps.sh)" >&2; exit 3; }
if [[ -z ${NETTOOL:-} ]]; then
	echo "bench/serve-echo: building nettool" >&2
	(cd "$root" && go build -o "$tmp/nettool" ./cmd/nettool)
	NETTOOL=$tmp/nettool
fi
(cd "$root" && go build -o "$tmp/echoload" ./scripts/bench/echoload)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
port=${ECHO_BENCH_PORT:-10777}
clients=${ECHO_BENCH_CLIENTS:-500}

# run NAME CMD...: starts the server, loads it, prints "wall_s cpu_s"
# (the server's user+system CPU, its reaped children included).
run() {
	local name=$1
	shift
	"$@" >/dev/null 2>"$tmp/$name.err" &
	srv_pid=$!
	local up=""
	for _ in $(seq 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
		read -r -t 0.05 <> <(:) || true
	done
	[[ -n $up ]] || { echo "bench/serve-echo: $name did not start" >&2; exit 3; }
	local r
	r=$("$tmp/echoload" -addr "127.0.0.1:$port" -clients "$clients" -bytes 1048576 -chunk 65536 -timeout 120s) || echo "bench/serve-echo: $name: some connections failed" >&2
	local ticks
	ticks=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$srv_pid/stat")
	kill -INT "$srv_pid"
	wait "$srv_pid" 2>/dev/null || true
	srv_pid=""
	echo "${r%% *} $(awk -v t="$ticks" -v h="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t/h}')"
}

echo "bench/serve-echo: $clients clients x 1 MiB, 64 KiB chunks" >&2
read -r q_wall q_cpu < <(run quiet "$NETTOOL" serve echo -q --chunk 65536 "127.0.0.1:$port")
read -r _ l_cpu < <(run logged "$NETTOOL" serve echo --chunk 65536 "127.0.0.1:$port")
read -r s_wall s_cpu < <(run socat socat "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr,backlog=1024" PIPE)
load=$(cut -d' ' -f1 /proc/loadavg)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "inf" }'; }
printf 'serve_echo_500x1MiB_wall_q\t%.3f\tsocat PIPE (fork)\t%.3f\ts\t%s\tratio = nettool/socat wall time, lower is better; -q --chunk 65536; load average %s on %s cores\n' "$q_wall" "$s_wall" "$(ratio "$q_wall" "$s_wall")" "$load" "$(nproc)"
printf 'serve_echo_500x1MiB_cpu_q\t%.2f\tsocat PIPE (fork)\t%.2f\tcpu_s\t%s\tratio = nettool/socat server CPU seconds (user+system, children included), lower is better; -q\n' "$q_cpu" "$s_cpu" "$(ratio "$q_cpu" "$s_cpu")"
printf 'serve_echo_500x1MiB_cpu_logged\t%.2f\tsocat PIPE (fork)\t%.2f\tcpu_s\t%s\tratio = nettool/socat server CPU seconds, nettool logging every chunk to a file (socat logs nothing)\n' "$l_cpu" "$s_cpu" "$(ratio "$l_cpu" "$s_cpu")"
