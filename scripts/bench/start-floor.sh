#!/usr/bin/env bash
# What a Go process that links nettool's libraries costs to start, before it
# does any work, against the whole runs of kdig and curl it is measured by:
#   start_floor_hello      a static Go "hello world"
#   start_floor_card_libs  a binary that imports the design card's three
#                          libraries (urfave/cli/v2, miekg/dns, pro-bing) and
#                          nettool's prefault package, and does nothing
#   start_floor_all_libs   the same with every package nettool links but its
#                          own (net/http, crypto/tls, yaml.v3, ...), doing nothing
#   start_floor_nettool_pkgs  the same with nettool's own packages too (resolve,
#                          httpget, serve, exporter, probe/..., interrupt), all
#                          but the command's main package, doing nothing
#   start_nettool_version  nettool --version
#   start_go_install_resolve  the same lookup by the binary a plain `go install`
#                          gives on this machine: `go build` with no flags and
#                          the machine's own CGO_ENABLED (1 where a C compiler
#                          is found: libc linked in dynamically)
#   start_go_install_static_resolve  the same with CGO_ENABLED=0 only, no tags
# each against one whole kdig lookup and one whole curl GET, with nettool's
# own lookup and GET in the same hyperfine run. The floor binaries are built
# with the release flags through `go build -overlay` (nothing is written into
# the tree); their package initialisers run as in nettool, their code is only
# what those initialisers reach.
# Prints one TSV line per benchmark on stdout; progress on stderr. Bounded:
# every step runs under `timeout`.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
export CGO_ENABLED=0 # static, as the release build; also keeps runtime/cgo out of the package list below
for tool in kdig curl hyperfine jq; do
  command -v "$tool" >/dev/null || { echo "start-floor.sh: $tool is missing (scripts/install-deps.sh installs it)" >&2; exit 3; }
done
log() { echo "start-floor.sh: $*" >&2; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

flags=(-tags urfave_cli_no_docs -trimpath -ldflags "-s -w")
if [ -z "${NETTOOL:-}" ]; then
  log "building nettool (release flags)"
  go build "${flags[@]}" -o "$work/nettool" ./cmd/nettool
  NETTOOL="$work/nettool"
fi

# What `go install github.com/nettool/nettool/cmd/nettool@...` builds: no
# flags, and the CGO_ENABLED the go command picks here when it is not set.
cgo_default=$(env -u CGO_ENABLED go env CGO_ENABLED)
log "building nettool as a plain go install does (CGO_ENABLED=$cgo_default), and with CGO_ENABLED=0 alone"
env -u CGO_ENABLED timeout 300 go build -o "$work/nettool-install" ./cmd/nettool
timeout 300 go build -o "$work/nettool-install-static" ./cmd/nettool
# A dynamically linked binary names its loader (PT_INTERP) near its start.
# (Read into a file first: under pipefail, grep -q leaving a pipe early
# would fail the pipeline through head's SIGPIPE.)
head -c 16384 "$work/nettool-install" > "$work/install-head"
if grep -aq -e '/ld-linux' -e '/ld-musl' "$work/install-head"; then linkage='dynamically linked'; else linkage='static'; fi

# The floor programs. Those importing prefault (internal to cmd/nettool) sit
# under cmd/nettool, in the overlay only.
repo=$(pwd)
module=$(go list -m)
# floor NAME PACKAGE...: a main package importing PACKAGE... for their
# initialisers alone, and doing nothing.
floor() {
  local name=$1
  shift
  { printf 'package main\n\nimport (\n'; printf '\t_ "%s"\n' "$@"; printf ')\n\nfunc main() {}\n'; } > "$work/$name.go"
}
# What nettool links, but its main package and what no program may import.
deps=$(go list -deps "${flags[@]:0:2}" ./cmd/nettool | grep -v -e '^vendor/' -e '^internal/' -e '^unsafe$' -e "^$module/cmd/nettool\$")
libs=$(printf '%s\n' "$deps" | grep -v -e "^$module/" -e '/internal')
own=$(printf '%s\n' "$deps" | grep "^$module/" | grep -v '/prefault$')
prefault=$module/cmd/nettool/internal/prefault
printf 'package main\n\nimport "os"\n\nfunc main() { os.Stdout.WriteString("hello\\n") }\n' > "$work/hello.go"
floor card "$prefault" github.com/urfave/cli/v2 github.com/miekg/dns github.com/prometheus-community/pro-bing
# shellcheck disable=SC2086 # one package a word
floor all "$prefault" $libs
# shellcheck disable=SC2086
floor pkgs "$prefault" $libs $own
for p in hello card all pkgs; do
  printf '{"Replace": {"%s/cmd/nettool/startfloor%s/main.go": "%s/%s.go"}}\n' "$repo" "$p" "$work" "$p" > "$work/$p.json"
  timeout 300 go build -overlay "$work/$p.json" "${flags[@]}" -o "$work/floor-$p" "./cmd/nettool/startfloor$p"
done
log "floor binaries: $(cd "$work" && ls -l floor-* | awk '{ printf "%s %d bytes; ", $NF, $5 }')"

port=$((20000 + RANDOM % 40000))
"$NETTOOL" serve dns "127.0.0.1:$port" -q >"$work/dns.out" 2>&1 &
pids+=($!)
"$NETTOOL" serve http 127.0.0.1:0 >"$work/http.out" 2>/dev/null &
pids+=($!)
url=""
for _ in $(seq 1 100); do
  url=$(awk '{print $4; exit}' "$work/http.out")
  if [ -n "$url" ] && kdig @127.0.0.1 -p "$port" www.example.test A +short +time=1 +retry=0 2>/dev/null | grep -q .; then break; fi
  sleep 0.05 # pacing between polls while the servers start
done
[ -n "$url" ] || { log "serve http did not start"; exit 3; }
kdig @127.0.0.1 -p "$port" www.example.test A +short +time=1 +retry=0 | grep -q . || { log "serve dns did not answer"; exit 3; }

# Binaries just written cost more faults per start than ones read from disk.
if [ "$(id -u)" -eq 0 ]; then
  sync
  echo 3 > /proc/sys/vm/drop_caches
fi
log "hyperfine, ${RUNS:-200} runs each"
timeout 600 hyperfine -N --warmup 20 --runs "${RUNS:-200}" --export-json "$work/h.json" \
  "$work/floor-hello" "$work/floor-card" "$work/floor-all" "$work/floor-pkgs" "$NETTOOL --version" \
  "$NETTOOL resolve www.example.test A @127.0.0.1:$port --short" "kdig @127.0.0.1 -p $port www.example.test A +short" \
  "$NETTOOL get -b $url/ip" "curl -s -o /dev/null $url/ip" \
  "$work/nettool-install resolve www.example.test A @127.0.0.1:$port --short" \
  "$work/nettool-install-static resolve www.example.test A @127.0.0.1:$port --short" >&2
med() { jq -r ".results[$1].median * 1000" "$work/h.json"; }
kd=$(med 6); cu=$(med 8)
load=$(cut -d' ' -f1-3 /proc/loadavg)
line() { # name nettool_ms note
  awk -v n="$1" -v v="$2" -v k="$kd" -v c="$cu" -v note="$3" -v load="$load" 'BEGIN {
    printf "%s\t%.2f\tkdig\t%.2f\tms\t%.2f\t%s; against curl %.2f ms: %.2fx; load average %s\n", n, v, k, v / k, note, c, v / c, load }'
}
line start_floor_hello "$(med 0)" "a static Go hello world, whole process, against one whole kdig lookup (median)"
line start_floor_card_libs "$(med 1)" "a binary importing urfave/cli/v2, miekg/dns, pro-bing and nettool's prefault, doing nothing"
line start_floor_all_libs "$(med 2)" "a binary importing every package nettool links (and prefault), doing nothing"
line start_floor_nettool_pkgs "$(med 3)" "the same with nettool's own packages too, all but main, doing nothing"
line start_nettool_version "$(med 4)" "nettool --version"
line start_nettool_resolve "$(med 5)" "nettool resolve NAME A @127.0.0.1 --short, the same run (target <= 1.00 kdig)"
awk -v v="$(med 7)" -v c="$cu" -v load="$load" 'BEGIN {
  printf "start_nettool_get\t%.2f\tcurl\t%.2f\tms\t%.2f\tnettool get -b URL/ip against curl -s -o /dev/null, the same run (target <= 0.5); load average %s\n", v, c, v / c, load }'
line start_go_install_resolve "$(med 9)" "the same lookup by a plain go install build (no flags, CGO_ENABLED=$cgo_default: $linkage, urfave's docs code in); against the release build: $(awk -v a="$(med 9)" -v b="$(med 5)" 'BEGIN { printf "%+.2f ms", a - b }')"
line start_go_install_static_resolve "$(med 10)" "the same by go build with CGO_ENABLED=0 alone (static, urfave's docs code in); against the release build: $(awk -v a="$(med 10)" -v b="$(med 5)" 'BEGIN { printf "%+.2f ms", a - b }')"
