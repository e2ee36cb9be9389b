#!/usr/bin/env bash
# check-dns.sh: check that a name resolves to an expected address (after a
# DNS change, in a deploy pipeline, in a monitoring check).
#
# Usage:   check-dns.sh NAME EXPECTED_ADDR [@SERVER...] [nettool resolve flags...]
#   NAME           the name to look up (A and AAAA are asked; CNAMEs are followed)
#   EXPECTED_ADDR  an IPv4 or IPv6 address, written as dig prints it
#                  (2001:db8::1, not 2001:0db8:0:0::1)
#   @SERVER        the server(s) to ask: @192.0.2.53, @127.0.0.1:5353,
#                  @tcp://ns1.example:53, @tls://..., @https://.../dns-query.
#                  With several, EVERY server must answer with EXPECTED_ADDR.
#                  None: the servers of /etc/resolv.conf (this host's own
#                  resolver, no public fallback).
#   flags          passed to nettool resolve: --timeout 1s, --retries 0, --tcp, ...
# Env:     NETTOOL  the nettool binary (default: nettool on PATH)
# Output:  one line per server on stdout, e.g.
#            ok: www.example.test resolves to 127.0.0.1 at 127.0.0.1:5353 (found: 127.0.0.1 ::1)
#            mismatch: www.example.test does not resolve to 192.0.2.9 at 127.0.0.1:5353 (found: 127.0.0.1 ::1)
#            mismatch: nope.example.test does not resolve to 192.0.2.9 at 127.0.0.1:5353 (found: nothing: dns_nxdomain)
# Exit:    0 every server answered with EXPECTED_ADDR among its addresses,
#          1 one did not (other addresses, NXDOMAIN, no reply...), 2 bad
#          arguments, 3 nettool or jq missing, or no DNS server usable,
#          130 interrupted.
#
# How: `nettool resolve NAME @SERVER --json` prints one document with a result
# per type and server; jq gathers the A/AAAA addresses of each server's answers.
set -euo pipefail

prog=${0##*/}
NETTOOL=${NETTOOL:-nettool}

if [[ $# -lt 2 || $1 == -* || $2 == -* ]]; then
  echo "usage: $prog NAME EXPECTED_ADDR [@SERVER...] [nettool resolve flags...]" >&2
  exit 2
fi
name=$1
given=$2
expected=${given,,}
shift 2
if ! [[ $expected =~ ^[0-9a-f:.]+$ && $expected =~ [.:] ]]; then
  echo "$prog: $given is not an IPv4 or IPv6 address" >&2
  exit 2
fi

for tool in "$NETTOOL" jq; do
  command -v "$tool" >/dev/null || { echo "$prog: $tool not found" >&2; exit 3; }
done

rc=0
json=$("$NETTOOL" resolve "$name" "$@" --json) || rc=$?
# 0 and 1 come with the JSON document; 2 (bad name, server or flag), 3 (no
# server) and 130 are passed on: nettool has said why on stderr.
if [[ $rc -ne 0 && $rc -ne 1 ]] || [[ -z $json ]]; then
  exit "$rc"
fi

# One line per server, in the order given: "ok" when EXPECTED_ADDR is among
# the A/AAAA records of its answers, else "mismatch" with what it did find
# (or why it found nothing).
report=$(jq -r --arg name "$name" --arg want "$expected" '
  .results as $results |
  reduce $results[].server as $s ([]; if any(.[]; . == $s) then . else . + [$s] end) |
  .[] as $server |
  [$results[] | select(.server == $server)] as $mine |
  ([$mine[].answer[]? | select(.type == "A" or .type == "AAAA") | .address] | unique) as $found |
  (if ($found | length) > 0 then ($found | join(" "))
   else "nothing: " + ([$mine[] | .failure // "no_data"] | unique | join(", ")) end) as $seen |
  if any($found[]; . == $want) then
    "ok: \($name) resolves to \($want) at \($server) (found: \($seen))"
  else
    "mismatch: \($name) does not resolve to \($want) at \($server) (found: \($seen))"
  end' <<<"$json")
printf '%s\n' "$report"
if [[ -z $report ]] || grep -q '^mismatch: ' <<<"$report"; then
  exit 1
fi
exit 0
