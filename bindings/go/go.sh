#!/bin/sh
# SPDX-License-Identifier: MIT
#
# go.sh SRCROOT BUILDROOT ARGS...: run "go ARGS..." in bindings/go against
# the library of the build tree BUILDROOT (its headers from SRCROOT), with
# the Go caches under BUILDROOT, nothing downloaded and nothing written to
# $HOME.  What meson's tests and targets run; by hand, from the repository
# root: bindings/go/go.sh . build test ./...
set -eu
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
shift 2
export CGO_ENABLED=1
export CGO_CFLAGS="-I$src/include -O2 -g"
export CGO_LDFLAGS="-L$build/src -Wl,-rpath,$build/src"
export LD_LIBRARY_PATH="$build/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GOCACHE="$build/bindings/go/cache"
export GOPATH="$build/bindings/go/gopath"
export GOMODCACHE="$GOPATH/pkg/mod"
export GOPROXY=off GOFLAGS= GOTOOLCHAIN=local GO111MODULE=on GOSUMDB=off
export GOTELEMETRY=off
# The C tool, for the interop tests.
export RINGCAST_TOOL="$build/tools/ringcast"
cd "$src/bindings/go"
exec go "$@"
