#!/usr/bin/env bash
# package.sh: build the sshport .deb and .rpm with nfpm from one
# configuration (packaging/nfpm.yaml): the binary in /usr/bin, the man page,
# bash/zsh/fish completion and the README.
#
# Usage: scripts/package.sh [deb] [rpm]        (default: both)
# Env:   VERSION (default: from `git describe --tags`, else 0.0.0~git<commit>),
#        ARCH (Go's GOARCH, default: this machine's), OUT (default: dist).
# Needs: go, git (for the revision), gzip. nfpm runs through `go run` at a
# pinned version, so it adds nothing to go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."

NFPM=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0
formats=("$@")
[ ${#formats[@]} -gt 0 ] || formats=(deb rpm)
ARCH=${ARCH:-$(go env GOARCH)}
OUT=${OUT:-dist}

revision=$(git rev-parse HEAD 2>/dev/null || true)
if [ -z "${VERSION:-}" ]; then
	VERSION=$(git describe --tags --match 'v[0-9]*' 2>/dev/null || true)
	VERSION=${VERSION#v}
	[ -n "$VERSION" ] || VERSION=0.0.0~git$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
fi
export VERSION ARCH

# nfpm reads the sources relative to the repository: dist/build is fixed.
build=dist/build
rm -rf "$build"
mkdir -p "$build/completions" "$OUT"

ldflags="-s -w -X main.version=$VERSION -X main.revision=$revision"
# The shipped binary: static, without urfave/cli's docs code (fast start-up).
CGO_ENABLED=0 GOOS=linux GOARCH=$ARCH go build -trimpath -tags urfave_cli_no_docs \
	-ldflags "$ldflags" -o "$build/sshport" .
# The completion scripts come from the CLI definition; a build for this
# machine writes them (the target's binary may not run here).
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -o "$build/host-sshport" .
"$build/host-sshport" completion bash >"$build/completions/sshport.bash"
"$build/host-sshport" completion zsh >"$build/completions/_sshport"
"$build/host-sshport" completion fish >"$build/completions/sshport.fish"
rm "$build/host-sshport"
# The man page is generated and checked by TestManPage (doc/sshport.1).
gzip -9n <doc/sshport.1 >"$build/sshport.1.gz"

for f in "${formats[@]}"; do
	go run "$NFPM" package --config packaging/nfpm.yaml --packager "$f" --target "$OUT/"
done
ls -l "$OUT"/*.deb "$OUT"/*.rpm 2>/dev/null || true
