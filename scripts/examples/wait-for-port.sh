#!/usr/bin/env bash
# wait-for-port.sh: wait until a TCP port accepts connections (the wait-for-it
# job: a database in a starting compose stack, a server a test just launched).
#
# Usage:   wait-for-port.sh HOST:PORT [TIMEOUT]
#   HOST:PORT  what to connect to: 127.0.0.1:5432, [::1]:8080, db:5432
#              (a name that does not resolve yet is retried too)
#   TIMEOUT    how long to keep trying: seconds (30) or a duration (1m30s,
#              500ms); default 30s
# Env:     NETTOOL  the nettool binary (default: nettool on PATH)
# Output:  one line on stdout, e.g.
#            open: 127.0.0.1:5432 accepted a connection in 0.241 ms after 1204.6 ms (5 attempts)
#            timeout: 127.0.0.1:5432 did not open within 30s (121 attempts, last: connection_refused)
#          nettool's "waiting up to ..." line goes to stderr.
# Exit:    0 the port is open, 1 it did not open in time (or the name never
#          resolved), 2 bad arguments, 3 nettool or jq missing (or another
#          local problem), 130 interrupted.
#
# How: `nettool tcp HOST:PORT --wait TIMEOUT --json` retries every 250 ms and
# prints one JSON document at the end; jq reads the summary from it.
set -euo pipefail

prog=${0##*/}
NETTOOL=${NETTOOL:-nettool}

if [[ $# -lt 1 || $# -gt 2 || $1 == -* ]]; then
  echo "usage: $prog HOST:PORT [TIMEOUT]" >&2
  exit 2
fi
target=$1
timeout=${2:-30s}
# A bare number is seconds; anything else is a duration nettool checks.
[[ $timeout =~ ^[0-9]+$ ]] && timeout+=s

for tool in "$NETTOOL" jq; do
  command -v "$tool" >/dev/null || { echo "$prog: $tool not found" >&2; exit 3; }
done

rc=0
json=$("$NETTOOL" tcp "$target" --wait "$timeout" --json) || rc=$?
# 0 and 1 come with the JSON document; anything else (2 usage, 3 local,
# 130 Ctrl-C) is passed on, nettool has already said why on stderr.
if [[ $rc -ne 0 && $rc -ne 1 ]] || [[ -z $json ]]; then
  exit "$rc"
fi

# --wait stops at the first connection, so rtt_min_ms is that connection's time.
jq -r --arg timeout "$timeout" '.results[0] |
  if .ok then
    "open: \(.target) accepted a connection in \(.rtt_min_ms) ms after \(.waited_ms) ms (\(.attempts) attempt\(if .attempts == 1 then "" else "s" end))"
  else
    "timeout: \(.target) did not open within \($timeout) (\(.attempts) attempt\(if .attempts == 1 then "" else "s" end), last: \(.failure // "unknown"))"
  end' <<<"$json"
exit "$rc"
