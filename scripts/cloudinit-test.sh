#!/usr/bin/env bash
# cloudinit-test.sh: validate examples/cloud-init/*.yaml with
# `cloud-init schema` (and check that it rejects a broken file).
#
# cloud-init is not installed: its package enables first-boot services and
# pulls in a DHCP client, which a CI machine must not get. Debian's
# cloud-init .deb is downloaded and unpacked in a temporary directory and
# run with Debian's python3; .ci/run installs the Python modules it needs
# (python3-configobj python3-jsonschema python3-yaml python3-jinja2
# python3-jsonpatch python3-netifaces python3-requests python3-oauthlib
# python3-serial). When a `cloud-init` command is installed, it is used.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if command -v cloud-init >/dev/null 2>&1; then
	ci=(cloud-init)
else
	chmod 0777 "$tmp"
	(cd "$tmp" && apt-get download cloud-init >/dev/null 2>&1) || {
		apt-get update -qq
		(cd "$tmp" && apt-get download cloud-init >/dev/null)
	}
	dpkg-deb -x "$tmp"/cloud-init_*.deb "$tmp/x"
	export PYTHONPATH=$tmp/x/usr/lib/python3/dist-packages
	ci=(/usr/bin/python3 "$tmp/x/usr/bin/cloud-init")
fi

printf '#cloud-config\npackages: 5\n' >"$tmp/broken.yaml"
if "${ci[@]}" schema --config-file "$tmp/broken.yaml" >/dev/null 2>&1; then
	echo "cloudinit-test.sh: cloud-init schema accepted a broken file" >&2
	exit 1
fi
for f in examples/cloud-init/*.yaml; do
	"${ci[@]}" schema --config-file "$f"
done
# The shell scripts it writes are valid bash.
for f in examples/cloud-init/*.yaml; do
	/usr/bin/python3 - "$f" "$tmp/script" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
for i, wf in enumerate(doc.get("write_files", [])):
    if wf.get("content", "").startswith("#!/bin/bash"):
        open(sys.argv[2] + str(i), "w").write(wf["content"])
PY
done
for s in "$tmp"/script*; do
	[ -e "$s" ] && bash -n "$s"
done
echo "cloudinit-test.sh: ok" >&2
