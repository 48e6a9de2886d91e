#!/usr/bin/env bash
# crossbuild.sh: build sshport and compile (not run) every package's tests
# for each platform the README names, with CGO_ENABLED=0, and vet them.
#
# Usage: scripts/crossbuild.sh [GOOS/GOARCH ...]
# Default targets: linux/amd64 linux/arm64 freebsd/amd64 openbsd/amd64 darwin/arm64.
# Binaries go to $OUT (default: a temporary directory, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(linux/amd64 linux/arm64 freebsd/amd64 openbsd/amd64 darwin/arm64)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=${OUT:-$tmp}
mkdir -p "$out"

fail=0
for t in "${targets[@]}"; do
	goos=${t%/*} goarch=${t#*/}
	export GOOS=$goos GOARCH=$goarch CGO_ENABLED=0
	echo "== $t" >&2
	if ! go build -trimpath -o "$out/sshport-$goos-$goarch" .; then
		fail=1
		continue
	fi
	# The tests must compile and link too: one test binary per package,
	# never run.
	mkdir -p "$tmp/test-$goos-$goarch"
	go test -c -o "$tmp/test-$goos-$goarch/" ./... >/dev/null || fail=1
	rm -rf "$tmp/test-$goos-$goarch"
	go vet ./... || fail=1
	unset GOOS GOARCH CGO_ENABLED
done
if [ "$fail" -ne 0 ]; then
	echo "crossbuild.sh: some targets failed" >&2
	exit 1
fi
echo "crossbuild.sh: ${targets[*]}: ok" >&2
