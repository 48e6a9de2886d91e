#!/usr/bin/env bash
# bench.sh: time `sshport check` as a whole process against `ss -Htn state
# listening`, `ss -Hltn` and `sshd -T`, while a helper holds 0, 10,000 and
# 50,000 established loopback connections, and print the ratios. A real
# sshd listens on the configuration's port (127.0.0.1:21022), started after
# the helpers so that its pid is higher than theirs: check looks up the
# owner of that socket, the case where reading every process's descriptors
# in pid order would read the helpers' 2 x LOAD first.
#
# Usage: scripts/bench.sh [LOADS...]        (default: 0 10000 50000)
# Env:   RUNS (default 30), SSHPORT (default /tmp/sshport, built here),
#        BIGCONFIG_MB (default 100; 0 skips): the size of the generated
#        config whose peak memory scripts/bigconfig.sh prints at the end.
#        PIDFILE=none to run that sshd with PidFile none (sshport then finds
#        it only by walking /proc in pid order, the helpers first).
# Needs: go, ss (iproute2), sshd (openssh-server), ssh-keygen; hyperfine if
# installed (Debian package hyperfine), else a plain timing loop. Run as root
# (it raises the open-file limit). Connections are on 127.0.0.1 only and the
# helper exits by itself after 15 minutes at most.
#
# Until the CLI has `check`, the sshport rows are skipped with a note; the
# stand-in rows (scripts/listprobe: the same checker code as one process,
# forced to netlink or to /proc) are always timed.
set -euo pipefail
cd "$(dirname "$0")/.."

loads=("$@")
[ ${#loads[@]} -gt 0 ] || loads=(0 10000 50000)
runs=${RUNS:-30}
SSHPORT=${SSHPORT:-/tmp/sshport}
SSHD=$(command -v sshd || echo /usr/sbin/sshd)

tmp=$(mktemp -d)
holder=
cleanup() {
	if [ -n "$holder" ]; then kill $holder 2>/dev/null || true; wait $holder 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# One helper process holds both ends of its connections (2 descriptors
# each); where the hard open-file limit is low (containers), several helpers
# share the load.
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard"
per=$(((hard - 256) / 2))
[ "$per" -gt 100000 ] && per=100000
[ "$per" -ge 1000 ] || { echo "bench.sh: open-file limit $hard is too low" >&2; exit 2; }

echo "building..." >&2
# urfave/cli without its man/markdown generator: 0.4 ms less start-up.
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -o "$SSHPORT" .
CGO_ENABLED=0 go build -o "$tmp/listprobe" ./scripts/listprobe
go build -o "$tmp/connhold" ./scripts/connhold

cfg=$tmp/sshd_config
port=21022
pidfile=$tmp/sshd.pid
[ "${PIDFILE:-}" = none ] && pidfile=none
printf 'Port %s\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s\nUsePAM no\n' "$port" "$tmp/hostkey" "$pidfile" >"$cfg"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/hostkey"
mkdir -p /run/sshd
if ss -Hltn "sport = :$port" | grep -q .; then
	echo "bench.sh: port $port is in use already" >&2
	exit 2
fi

# name|command pairs; the first is the reference for the ratios.
cmds=("ss-state-listening|ss -Htn state listening"
	"ss-Hltn|ss -Hltn"
	"sshd-T|$SSHD -T -f $cfg -h $tmp/hostkey")
# Only a real check command counts: it must exit 0 or 1 and name the port.
set +e
out=$("$SSHPORT" check --config "$cfg" 2>&1)
rc=$?
set -e
if [ "$rc" -le 1 ] && grep -q "$port" <<<"$out"; then
	cmds+=("sshport-check|$SSHPORT check --config $cfg")
else
	echo "note: '$SSHPORT check --config FILE' exits $rc without naming port $port (no check command yet?): its rows are skipped" >&2
fi
cmds+=("standin-netlink|$tmp/listprobe -method netlink" "standin-proc|$tmp/listprobe -method proc")

# time_cmds OUT.csv: median (hyperfine; a plain loop gives the mean) and
# stddev in seconds per name, as "name,time,stddev". The median, because
# the machines this runs on are shared: a few runs slowed by a neighbour
# move the mean far more than the median.
time_cmds() {
	local out=$1 c name cmd
	: >"$out"
	if command -v hyperfine >/dev/null; then
		local args=()
		for c in "${cmds[@]}"; do args+=(-n "${c%%|*}" "${c#*|}"); done
		hyperfine -N -i --warmup 3 --runs "$runs" --style none --export-csv "$tmp/h.csv" "${args[@]}" >/dev/null
		tail -n +2 "$tmp/h.csv" | awk -F, '{ print $1 "," $4 "," $3 }' >"$out"
	else
		for c in "${cmds[@]}"; do
			name=${c%%|*} cmd=${c#*|}
			local t0 t1 i
			for i in 1 2 3; do $cmd >/dev/null 2>&1 || true; done
			t0=$(date +%s%N)
			for ((i = 0; i < runs; i++)); do $cmd >/dev/null 2>&1 || true; done
			t1=$(date +%s%N)
			echo "$name,$(awk -v d=$((t1 - t0)) -v r="$runs" 'BEGIN{printf "%.9f", d/r/1e9}'),0" >>"$out"
		done
	fi
}

summary=$tmp/summary
: >"$summary"
for n in "${loads[@]}"; do
	echo "load: $n established loopback connections" >&2
	mkfifo "$tmp/ready.$n"
	holders=() left=$n i=0
	while :; do
		chunk=$((left < per ? left : per))
		"$tmp/connhold" -n "$chunk" -for 15m <"$tmp/ready.$n" >"$tmp/hold.$n.$i" &
		holders+=($!)
		i=$((i + 1)) left=$((left - chunk))
		[ "$left" -gt 0 ] || break
	done
	holder="${holders[*]}"
	exec 9>"$tmp/ready.$n" # holds the helpers' stdin open; closing it ends them
	for ((j = 0; j < i; j++)); do
		until grep -q '^ready' "$tmp/hold.$n.$j" 2>/dev/null; do
			kill -0 "${holders[$j]}" 2>/dev/null || { echo "bench.sh: connhold failed" >&2; exit 2; }
			sleep 0.2
		done
	done
	"$SSHD" -D -f "$cfg" 2>"$tmp/sshd.log" &
	sshd_pid=$!
	holder="$holder $sshd_pid"
	until ss -Hltn "sport = :$port" | grep -q .; do
		kill -0 "$sshd_pid" 2>/dev/null || { echo "bench.sh: sshd failed: $(cat "$tmp/sshd.log")" >&2; exit 2; }
		sleep 0.1
	done
	echo "  $(ss -Htn state established | wc -l) established sockets, $i helper(s) (pids ${holders[*]}), sshd pid $sshd_pid (PidFile $pidfile)" >&2
	"$SSHPORT" check --config "$cfg" | grep -E 'listening sockets|running|pid' >&2 || true
	time_cmds "$tmp/t.$n"
	exec 9>&-
	kill "$sshd_pid" 2>/dev/null || true
	wait ${holder} || true
	holder=
	while IFS=, read -r name mean sd; do echo "$n,$name,$mean,$sd" >>"$summary"; done <"$tmp/t.$n"
done

echo
how="median"
command -v hyperfine >/dev/null || how="mean"
echo "$how wall time per run (ms), $runs runs; ratio = row / ss -Htn state listening"
awk -F, '
	{ t[$1","$2] = $3; sd[$1","$2] = $4; if (!($2 in seen)) { seen[$2] = 1; names[++k] = $2 }
	  if (!($1 in sl)) { sl[$1] = 1; loads[++m] = $1 } }
	END {
		printf "%-20s", "command"; for (j = 1; j <= m; j++) printf " %18s", loads[j] " conns"; print ""
		for (i = 1; i <= k; i++) {
			printf "%-20s", names[i]
			for (j = 1; j <= m; j++) {
				v = t[loads[j]","names[i]]; r = t[loads[j]",ss-state-listening"]
				printf " %9.2f (x%5.2f)", v * 1000, v / r
			}
			print ""
		}
		print ""
		for (j = 1; j <= m; j++) {
			L = loads[j]; s = t[L",sshport-check"]
			if (s != "") printf "%s conns: sshport check / ss state listening = %.2f (target <= 1.5), / ss -Hltn = %.2f, / sshd -T = %.2f (target < 0.5)\n", L, s / t[L",ss-state-listening"], s / t[L",ss-Hltn"], s / t[L",sshd-T"]
			printf "%s conns: stand-in netlink / proc = %.3f\n", L, t[L",standin-netlink"] / t[L",standin-proc"]
		}
	}' "$summary"

# Memory: the peak RSS of check, suggest and suggest --apply on a large
# generated config (scripts/bigconfig.sh; needs /usr/bin/time, Debian time).
big=${BIGCONFIG_MB:-100}
if [ "$big" != 0 ]; then
	echo
	echo "big config memory (${big} MB, limit 3 x file + 20 MiB):"
	if [ -x /usr/bin/time ]; then
		SSHPORT=$SSHPORT scripts/bigconfig.sh "$big"
	else
		echo "note: /usr/bin/time is missing (Debian package time): skipped"
	fi
fi
