#!/bin/bash
# rtalloc --status: consistent leases and rules give exit 0; a rule deleted
# by hand (the client frozen so it cannot restore it), a stray proto-122
# rule, a `from` rule into another table and a lease whose client is gone
# are each named on stdout, with exit status 6.  --list shows the leases.
. "$(dirname "$0")/../lib.sh"
t_require_root

t_uplink_host
t_server "$H" || exit 1

client_pid() { t_daemons "$H" "$1"; }	# the rtalloc daemon holding ADDRESS

out=$(rtalloc --status); rc=$?
t_eq "no leases, no rules: exit 0" 0 "$rc"
t_eq "no leases, no rules: says so" "consistent: 0 leases, 0 rules (proto 122)" "$out"

# Each with its table's route: a table its rules select must not be empty.
T4=$(rtalloc -4 -a 192.0.2.7 -n 24 -i up0 -t wan --route 192.0.2.0/24)
T6=$(rtalloc -6 -a 2001:db8:1::7 -n 64 -i up0 --route 2001:db8:1::/64)
P4=$(client_pid 192.0.2.7)
t_check "two clients run (tables $T4, $T6, pid ${P4:-none})" test -n "$P4" -a -n "$T6"

out=$(rtalloc --status); rc=$?
t_eq "consistent: exit 0" 0 "$rc"
t_eq "consistent: summary" "consistent: 2 leases, 6 rules (proto 122)" "$out"

list=$(rtalloc --list)
t_check "--list shows the IPv4 lease with its table and tag" \
	grep -Eq "^inet +up0 +192\.0\.2\.7 +$T4 +[0-9]+  wan\$" <<<"$list"
json=$(rtalloc --list --json)
t_check "--list --json is JSON with both leases" \
	python3 -c 'import json,sys; l=json.loads(sys.argv[1]); assert len(l) == 2, l' "$json"

# Freeze the client: otherwise it restores the rule at once (reconcile).
kill -STOP "$P4"
t_on_exit "kill -CONT $P4"
ip -n "$H" rule del pref 91000 iif lo lookup "$T4"
out=$(rtalloc --status); rc=$?
t_eq "deleted rule: exit 6" 6 "$rc"
t_check "deleted rule: named" grep -qxF \
	"missing rule: inet 192.0.2.7 on up0, table $T4: no \`iif lo lookup $T4\`" <<<"$out"
t_check "deleted rule: nothing else reported" test "$(grep -c . <<<"$out")" = 2

ip -n "$H" rule add pref 10000 from 198.51.100.9 lookup 12345 proto 122
ip -n "$H" rule add pref 15000 from 192.0.2.7 lookup 777 proto 122
# Someone else's rule (no proto 122) is not ours to judge.
ip -n "$H" rule add pref 15001 from 198.51.100.10 lookup 12346
out=$(rtalloc --status); rc=$?
t_eq "stray rules: exit 6" 6 "$rc"
t_check "stray proto-122 rule: named" grep -qxF \
	"rule without lease: inet pref 10000 from 198.51.100.9/32 lookup 12345" <<<"$out"
t_check "from rule into another table: named" grep -qxF \
	"different table: inet 192.0.2.7 on up0 leases table $T4, but the kernel has \`pref 15000 from 192.0.2.7/32 lookup 777\`" <<<"$out"
t_check "foreign rule: not mentioned" bash -c "! grep -q 12346 <<<\"\$1\"" _ "$out"
t_check "summary line counts 3 differences" grep -q "^3 differences between 2 leases and 7 rules" <<<"$out"

# Back to consistent: remove the strays, let the client restore its rule.
ip -n "$H" rule del pref 10000 from 198.51.100.9 lookup 12345
ip -n "$H" rule del pref 15000 from 192.0.2.7 lookup 777
kill -CONT "$P4"
status_ok() { rtalloc --status >/dev/null; }
t_check "client restored its rule: consistent again" t_wait 5 status_ok

# A client killed with -9 leaves its rules and its lease: consistent, but a
# lease whose rules are gone (removed by hand after the crash) is named.
kill -9 "$P4"
ip -n "$H" rule del pref 10000 from 192.0.2.7 lookup "$T4"
ip -n "$H" rule del pref 20000 to 192.0.2.0/24 lookup "$T4"
ip -n "$H" rule del pref 91000 iif lo lookup "$T4"
out=$(rtalloc --status); rc=$?
t_eq "lease without rules: exit 6" 6 "$rc"
t_check "lease without rules: named" grep -qxF \
	"lease without rules: inet 192.0.2.7 on up0, table $T4" <<<"$out"

# The server stopped: no answer is exit 2, as for --list.
kill "$T_SERVER_PID"; wait "$T_SERVER_PID" 2>/dev/null
out=$(rtalloc --status --retry-interval 1 2>&1); rc=$?
t_eq "no server: exit 2" 2 "$rc"
t_check "no server: says which socket" grep -q "@$T_SOCK" <<<"$out"

out=$(rtalloc --status --list 2>&1); rc=$?
t_eq "--status with --list: usage error" 64 "$rc"
t_done
