#!/usr/bin/env bash
# http-health.sh: an HTTP health check for cron, a load balancer hook or a
# deploy pipeline: the URL must answer below 400, and in time if asked.
#
# Usage:   http-health.sh URL [MAX_MS] [nettool get flags...]
#   URL     http://host:port/health, https://..., or host[:port][/path]
#   MAX_MS  fail when the whole exchange (every hop: lookup, connect, TLS,
#           request, response) took longer than this many milliseconds;
#           default: no limit
#   flags   passed to nettool get: -L, -k, --cacert FILE, -H 'Name: value',
#           --timeout 5s, ...
# Env:     NETTOOL  the nettool binary (default: nettool on PATH)
# Output:  one line on stdout, e.g.
#            ok: http://127.0.0.1:8000/ status 200 in 1.02 ms
#            fail: http://127.0.0.1:8000/status/500 status 500 in 0.71 ms
#            fail: http://127.0.0.1:9/ connection_refused: dial tcp 127.0.0.1:9: connect: connection refused
#            slow: http://127.0.0.1:8000/drip status 200 in 903.4 ms (limit 500 ms)
# Exit:    0 healthy, 1 unhealthy (status >= 400, no connection, timeout,
#          malformed response, or slower than MAX_MS), 2 bad arguments or
#          URL, 3 nettool or jq missing, 130 interrupted.
#
# How: `nettool get --fail --json URL` prints the whole exchange as one JSON
# document and exits 1 for status >= 400; jq takes the final status and adds up
# each hop's timings.total_ms.
set -euo pipefail

prog=${0##*/}
NETTOOL=${NETTOOL:-nettool}

if [[ $# -lt 1 || $1 == -* ]]; then
  echo "usage: $prog URL [MAX_MS] [nettool get flags...]" >&2
  exit 2
fi
url=$1
shift
max_ms=
if [[ $# -gt 0 && $1 != -* ]]; then
  max_ms=$1
  shift
  if ! [[ $max_ms =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    echo "$prog: MAX_MS must be a number of milliseconds, not $max_ms" >&2
    exit 2
  fi
fi

for tool in "$NETTOOL" jq; do
  command -v "$tool" >/dev/null || { echo "$prog: $tool not found" >&2; exit 3; }
done

rc=0
json=$("$NETTOOL" get "$url" "$@" --fail --json) || rc=$?
# 0 and 1 come with the JSON document; 2 (bad URL or flag) and 130 are passed
# on: nettool has said why on stderr.
if [[ $rc -ne 0 && $rc -ne 1 ]] || [[ -z $json ]]; then
  exit "$rc"
fi

# One line; its first word (ok, fail, slow) is the verdict. nettool already
# escapes what a server sent; `printable` makes sure no control character
# reaches the terminal through jq -r whatever the text.
line=$(jq -r --arg max "$max_ms" '
  def printable: explode | map(if . < 32 or (. >= 127 and . < 160) or (. >= 8234 and . <= 8238) or (. >= 8294 and . <= 8297) then 63 else . end) | implode;
  ([.hops[]?.timings.total_ms // 0] | add // 0 | . * 1000 | round / 1000) as $ms |
  if .status == null then
    "fail: \(.target) \(.failure // "error"): \(.error // "no response" | printable)"
  elif .status >= 400 or (.ok | not) then
    "fail: \(.target) status \(.status) in \($ms) ms\(if .status < 400 then " (\(.failure): \(.error // "" | printable))" else "" end)"
  elif $max != "" and $ms > ($max | tonumber) then
    "slow: \(.target) status \(.status) in \($ms) ms (limit \($max) ms)"
  else
    "ok: \(.target) status \(.status) in \($ms) ms"
  end' <<<"$json")
printf '%s\n' "$line"
[[ $line == ok:* ]]
