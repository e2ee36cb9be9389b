#!/usr/bin/env bash
# myip-change.sh: notice when this network's external address changes, from
# cron (then update a DNS record, a firewall rule, a VPN peer...).
#
# Usage:   myip-change.sh STATE_FILE --provider SPEC [--provider SPEC]... [nettool myip flags...]
#   STATE_FILE  where the last agreed address is kept, one per line (IPv4
#               first); created on the first run (mode 0600), replaced
#               atomically
#   --provider  who to ask, at least one (or NETTOOL_MYIP_PROVIDER="SPEC SPEC"):
#               https://HOST/PATH answering the address as plain text, or
#               dns:NAME[/CLASS][/TYPE]@SERVER. Every provider learns your
#               address, so the choice is yours: nettool's default list is
#               printed by `nettool myip --list-providers`, and
#                 myip-change.sh STATE $(nettool myip --list-providers | sed 's/^/--provider /')
#               uses it.
#   flags       passed to nettool myip: -4 or -6 (one family), --quorum N
#               (default 2 with two providers or more), --timeout D, ...
# Env:     NETTOOL  the nettool binary (default: nettool on PATH)
# Output:  one line on stdout:
#            unchanged: 203.0.113.7
#            changed: 203.0.113.7 -> 203.0.113.8
#            new: 203.0.113.7 (no address in STATE_FILE yet)
#            no consensus: IPv4: ... (STATE_FILE left as it was)
# Exit:    0 unchanged, 10 changed (or first address recorded), 1 no
#          consensus among the providers (STATE_FILE untouched), 2 bad
#          arguments, 3 local problem (nettool or jq missing, STATE_FILE not
#          readable or not writable), 130 interrupted.
#          In cron:  myip-change.sh /var/lib/myip --provider ... ; [ $? -eq 10 ] && update-dns
#
# Each family (IPv4, IPv6) is compared on its own: a family whose vote fails
# this time keeps its stored address and is not counted as a change.
#
# How: `nettool myip --external --json` asks the providers at once and prints
# one document with an `external` entry per family; jq takes the agreed ones.
set -euo pipefail

prog=${0##*/}
NETTOOL=${NETTOOL:-nettool}

usage() {
  echo "usage: $prog STATE_FILE --provider SPEC [--provider SPEC]... [nettool myip flags...]" >&2
  exit 2
}
[[ $# -ge 1 && $1 != -* ]] || usage
state=$1
shift
# Never fall back to nettool's built-in list of public services: the
# providers are the caller's choice.
have_provider=0
[[ -n ${NETTOOL_MYIP_PROVIDER:-} ]] && have_provider=1
for arg in "$@"; do
  case $arg in --provider | --provider=* | -provider | -provider=*) have_provider=1 ;; esac
done
if [[ $have_provider -eq 0 ]]; then
  echo "$prog: give the providers to ask with --provider SPEC (nettool myip --list-providers shows nettool's list)" >&2
  usage
fi

for tool in "$NETTOOL" jq; do
  command -v "$tool" >/dev/null || { echo "$prog: $tool not found" >&2; exit 3; }
done

old=
if [[ -e $state ]]; then
  old=$(<"$state") || { echo "$prog: cannot read $state" >&2; exit 3; }
fi

rc=0
json=$("$NETTOOL" myip --external --json "$@") || rc=$?
# 0 and 1 come with the JSON document; 2 (bad spec or flag), 3 and 130 are
# passed on: nettool has said why on stderr.
if [[ $rc -ne 0 && $rc -ne 1 ]] || [[ -z $json ]]; then
  exit "$rc"
fi

# Three lines: a verdict (same, changed, new, none), the addresses to store
# (space-separated, IPv4 first), and the old ones or nettool's error.
result=$(jq -r --arg old "$old" '
  def printable: explode | map(if . < 32 or (. >= 127 and . < 160) or (. >= 8234 and . <= 8238) or (. >= 8294 and . <= 8297) then 63 else . end) | implode;
  def family: if test(":") then "ipv6" else "ipv4" end;
  ($old | split("\n") | map(select(length > 0))) as $prev |
  [.external[]? | select(.ok) | {family, address}] as $agreed |
  if ($agreed | length) == 0 then
    "none", "", (.error // "no provider agreed" | printable)
  else
    ($agreed | map(.family)) as $families |
    ([$prev[] | select(family as $f | $families | index($f) | not)]
      + ($agreed | map(.address)) | sort_by(family)) as $next |
    (if ($prev | length) == 0 then "new"
     elif $next == ($prev | sort_by(family)) then "same"
     else "changed" end),
    ($next | join(" ")), ($prev | sort_by(family) | join(" "))
  end' <<<"$json") || { echo "$prog: cannot read nettool's JSON" >&2; exit 3; }
mapfile -t lines <<<"$result"
verdict=${lines[0]:-none} next=${lines[1]:-} detail=${lines[2]:-}

case $verdict in
  none)
    echo "no consensus: $detail ($state left as it was)"
    exit 1
    ;;
  same)
    echo "unchanged: $next"
    exit 0
    ;;
esac

# Write a temporary file next to STATE_FILE and rename it over: a reader (or a
# run killed half-way) sees the old file or the new one, never half of one.
dir=$(dirname -- "$state")
tmp=$(mktemp "$dir/.${state##*/}.XXXXXX") || { echo "$prog: cannot write in $dir" >&2; exit 3; }
trap 'rm -f -- "$tmp"' EXIT
# shellcheck disable=SC2086 # one address per line
printf '%s\n' $next >"$tmp" || { echo "$prog: cannot write $tmp" >&2; exit 3; }
mv -f -- "$tmp" "$state" || { echo "$prog: cannot replace $state" >&2; exit 3; }
trap - EXIT

if [[ $verdict == new ]]; then
  echo "new: $next (no address in $state yet)"
else
  echo "changed: $detail -> $next"
fi
exit 10
