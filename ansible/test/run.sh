#!/usr/bin/env bash
# run.sh: integration test of the sshport Ansible role against real sshd
# hosts. Three sshd daemons run on 127.0.0.2, .3 and .4 (port 2222, an
# alternate SSH port scanners probe), each with its own sshd_config, host key
# and pid file under a temporary directory; Ansible logs in as root over
# real ssh with a throw-away key (PermitRootLogin prohibit-password).
#
#  1. --check --diff: shows sshport's diff, changes nothing (configs
#     byte-identical, sshd still on 2222 only);
#  2. the play: every sshd answers on its new port only, the old port is
#     closed, the new port is recorded in host_vars;
#  3. the play again, through the inventory's new port: changed=0.
#
# Needs root, sshd, ssh, ansible-playbook (Debian's ansible-core), go.
# Everything is bounded in time and stopped at the end; loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

[ "$(id -u)" = 0 ] || { echo "ansible test: needs root (sshd, root login)" >&2; exit 2; }
command -v ansible-playbook >/dev/null || { echo "ansible test: ansible-playbook missing (apt-get install ansible-core)" >&2; exit 2; }
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
mkdir -p /run/sshd

t=$(mktemp -d /tmp/sshport-ansible.XXXXXX)
chmod 0700 "$t"
pids=()
cleanup() {
	# Ansible's ssh connection masters (ControlPersist) first, then the sshd.
	for s in "$t"/cp/*; do
		[ -S "$s" ] && ssh -o ControlPath="$s" -O exit dummy >/dev/null 2>&1 || true
	done
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "${KEEP:-}" ]; then echo "ansible test: kept $t" >&2; else rm -rf "$t"; fi
}
trap cleanup EXIT

fail() { echo "ansible test: FAIL: $*" >&2; exit 1; }

CGO_ENABLED=0 go build -tags urfave_cli_no_docs -o "$t/sshport" .
ssh-keygen -q -t ed25519 -N '' -C sshport-ansible-test -f "$t/client_key"
cp "$t/client_key.pub" "$t/authorized_keys"

hosts=(h2 h3 h4)
declare -A addr=([h2]=127.0.0.2 [h3]=127.0.0.3 [h4]=127.0.0.4)
old=2222
for h in "${hosts[@]}"; do
	d=$t/$h
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
	cat >"$d/sshd_config" <<CFG
# sshd of test host $h (sshport ansible test)
Port $old
ListenAddress ${addr[$h]}
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $t/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
CFG
	"$SSHD" -t -f "$d/sshd_config"
	# sshd re-executes itself on SIGHUP (the reload): absolute path, -D.
	timeout 900 "$SSHD" -D -e -f "$d/sshd_config" 2>"$d/sshd.log" &
	pids+=($!)
	cp "$d/sshd_config" "$d/sshd_config.orig"
done

# Inventory: the hosts at their old port. host_vars/ is written by the role.
mkdir -p "$t/inventory/host_vars"
{
	echo "[sshd_hosts]"
	for h in "${hosts[@]}"; do
		echo "$h ansible_host=${addr[$h]} ansible_port=$old sshport_config=$t/$h/sshd_config reload_pid_file=$t/$h/sshd.pid"
	done
	cat <<INV
[sshd_hosts:vars]
ansible_user=root
ansible_python_interpreter=/usr/bin/python3
ansible_ssh_private_key_file=$t/client_key
ansible_ssh_common_args=-o UserKnownHostsFile=$t/known_hosts -o StrictHostKeyChecking=accept-new -o IdentitiesOnly=yes -o ConnectTimeout=10
ansible_remote_tmp=$t/remote_tmp
sshport_bin=$t/sshport
sshport_sshd=$SSHD
sshport_reload_command=kill -HUP "\$(cat {{ reload_pid_file }})"
sshport_wait_timeout=20
sshport_host_vars_dir={{ inventory_dir }}/host_vars
INV
} >"$t/inventory/hosts.ini"

cat >"$t/ansible.cfg" <<CFG
[defaults]
roles_path = $repo/ansible/roles
local_tmp = $t/local_tmp
host_key_checking = True
forks = 5
timeout = 15
retry_files_enabled = False
[ssh_connection]
control_path_dir = $t/cp
pipelining = True
CFG
cat >"$t/site.yml" <<'PLAY'
- name: Move sshd to a safe port
  hosts: sshd_hosts
  gather_facts: false
  roles:
    - sshport
PLAY
export ANSIBLE_CONFIG=$t/ansible.cfg ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 HOME=$t

listening() { # ADDR PORT: true when something accepts a connection there
	timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}
for h in "${hosts[@]}"; do
	for i in $(seq 50); do listening "${addr[$h]}" $old && break; sleep 0.1; done
	listening "${addr[$h]}" $old || { cat "$t/$h/sshd.log" >&2; fail "sshd of $h did not start"; }
done

play() { # LOG ARGS...: run the play, bounded in time
	local log=$1; shift
	echo "$(date +%T) ansible-playbook $*" >&2
	timeout 300 ansible-playbook -i "$t/inventory/hosts.ini" "$t/site.yml" "$@" >"$log" 2>&1 || {
		cat "$log" >&2
		fail "ansible-playbook $* failed"
	}
	cat "$log"
	echo "$(date +%T) done" >&2
}

recap() { # LOG HOST FIELD: the number in the PLAY RECAP line
	sed -n "s/^$2 *: .*$3=\([0-9]*\).*/\1/p" "$1"
}

echo "== 1. check mode" >&2
play "$t/check.log" --check --diff
for h in "${hosts[@]}"; do
	cmp -s "$t/$h/sshd_config" "$t/$h/sshd_config.orig" || fail "check mode changed $h's sshd_config"
	ls "$t/$h" | grep -q sshport- && fail "check mode left a backup for $h"
	[ -e "$t/inventory/host_vars/$h/sshport.yml" ] && fail "check mode wrote host_vars for $h"
done
grep -q "^+Port " "$t/check.log" || fail "check mode showed no diff"

echo "== 2. the play" >&2
play "$t/run1.log" --diff
for h in "${hosts[@]}"; do
	[ "$(recap "$t/run1.log" "$h" failed)" = 0 ] || fail "$h failed"
	[ "$(recap "$t/run1.log" "$h" changed)" -gt 0 ] || fail "$h: nothing changed"
	new=$(sed -n 's/^ansible_port: \([0-9]*\)$/\1/p' "$t/inventory/host_vars/$h/sshport.yml")
	[ -n "$new" ] && [ "$new" != $old ] || fail "$h: no new port recorded"
	listening "${addr[$h]}" "$new" || fail "$h: sshd does not answer on $new"
	listening "${addr[$h]}" $old && fail "$h: the old port $old still answers"
	grep -q "^Port $new\$" "$t/$h/sshd_config" || fail "$h: sshd_config lacks Port $new"
	grep -q "^Port $old\$" "$t/$h/sshd_config" && fail "$h: sshd_config keeps Port $old"
	# A fresh login on the new port, with plain ssh.
	timeout 20 ssh -n -p "$new" -i "$t/client_key" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o UserKnownHostsFile="$t/known_hosts" -o StrictHostKeyChecking=yes "root@${addr[$h]}" true ||
		fail "$h: ssh on port $new failed"
	echo "$h: $old -> $new" >&2
done

echo "== 3. the play again (inventory's new port): changed=0" >&2
play "$t/run2.log"
for h in "${hosts[@]}"; do
	[ "$(recap "$t/run2.log" "$h" ok)" -gt 0 ] || fail "$h: not reached on the second run"
	[ "$(recap "$t/run2.log" "$h" changed)" = 0 ] || fail "$h: second run changed something"
	[ "$(recap "$t/run2.log" "$h" failed)" = 0 ] || fail "$h: second run failed"
done
echo "ansible test: ok" >&2
