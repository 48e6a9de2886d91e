#!/usr/bin/env bash
# package-test.sh: build the packages (scripts/package.sh), install the
# .deb with dpkg, and check what an admin gets: `sshport --version` names
# the package version, `sshport check` runs, `man sshport` shows the page,
# the bash/zsh/fish completion files are in place and bash completes with
# them. The package is purged at the end (it is left alone when sshport
# was installed before, and the test refuses to overwrite a /usr/bin/sshport
# that no package owns). Run as root; CI does (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "package-test.sh: needs root (dpkg -i)" >&2; exit 2; }
if [ -e /usr/bin/sshport ] && ! dpkg -S /usr/bin/sshport >/dev/null 2>&1; then
	echo "package-test.sh: /usr/bin/sshport exists and belongs to no package; not overwriting it" >&2
	exit 2
fi
if dpkg-query -W -f '${Status}' sshport 2>/dev/null | grep -q 'install ok installed'; then
	echo "package-test.sh: package sshport is installed already; not replacing it" >&2
	exit 2
fi

out=$(mktemp -d)
purge() {
	dpkg -P sshport >/dev/null 2>&1 || true
	rm -rf "$out"
}
trap purge EXIT

export VERSION=${VERSION:-0.0.0~ci1}
OUT=$out scripts/package.sh deb rpm
deb=$(ls "$out"/sshport_*.deb)
rpm=$(ls "$out"/sshport-*.rpm)

echo "== contents" >&2
dpkg-deb -c "$deb" >"$out/contents.txt"
cat "$out/contents.txt"
for f in ./usr/bin/sshport ./usr/share/man/man1/sshport.1.gz ./usr/share/bash-completion/completions/sshport \
	./usr/share/zsh/vendor-completions/_sshport ./usr/share/fish/vendor_completions.d/sshport.fish \
	./usr/share/doc/sshport/README.md; do
	grep -q " $f\$" "$out/contents.txt" || { echo "package-test.sh: $f missing from the .deb" >&2; exit 1; }
done
[ -s "$rpm" ] || { echo "package-test.sh: no rpm" >&2; exit 1; }
if command -v rpm >/dev/null 2>&1; then
	rpm -qpl "$rpm" >"$out/rpm.txt"
	grep -qx /usr/bin/sshport "$out/rpm.txt"
fi

echo "== dpkg -i" >&2
# Minimal images may exclude /usr/share/man from packages: include our page.
dpkg -i --path-include=/usr/share/man/man1/sshport.1.gz "$deb"

v=$(sshport --version)
echo "$v"
case $v in
"sshport $VERSION (revision "*) ;;
*) echo "package-test.sh: --version says '$v', want sshport $VERSION (revision ...)" >&2; exit 1 ;;
esac

set +e
sshport check
code=$?
set -e
# 0 no finding, 1 findings (Port 22 on a stock machine): both mean it works.
[ "$code" -le 1 ] || { echo "package-test.sh: sshport check exited $code" >&2; exit 1; }

MANPAGER=cat MANWIDTH=80 man sshport >"$out/man.txt"
grep -q 'sshport - check sshd' "$out/man.txt" || { echo "package-test.sh: man sshport: unexpected page" >&2; cat "$out/man.txt" >&2; exit 1; }

for f in /usr/share/bash-completion/completions/sshport /usr/share/zsh/vendor-completions/_sshport \
	/usr/share/fish/vendor_completions.d/sshport.fish; do
	[ -s "$f" ] || { echo "package-test.sh: $f missing" >&2; exit 1; }
done
got=$(bash --norc --noprofile -c 'source /usr/share/bash-completion/completions/sshport
COMP_WORDS=(sshport sug); COMP_CWORD=1; _sshport; echo "${COMPREPLY[*]}"')
[ "$got" = suggest ] || { echo "package-test.sh: bash completion of 'sshport sug' gave '$got'" >&2; exit 1; }

echo "package-test.sh: ok ($deb)" >&2
