#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Install what building and testing ringcast needs, from Debian packages.
# Idempotent: installs only what is missing, and runs apt-get update only
# when something is.  Meant to run as root (CI); otherwise it only reports.
set -euo pipefail

packages=(
	gcc
	g++
	binutils
	libc6-dev
	meson
	ninja-build
	pkg-config
	python3
	check
	liburcu-dev
	groff-base
	man-db
	spin
	clang
	libclang-rt-14-dev
	libzmq3-dev
	iceoryx
	libiceoryx-binding-c-dev
	gnuplot-nox
	nats-server
	libnats-dev
	curl
	libmicrohttpd-dev
	libsystemd-dev
	prometheus
	systemd
	tmux
	golang-go
	python3-cffi
	python3-pytest
	python3-zmq
	python3-venv
	python3-pip
	python3-setuptools
)

missing=()
for pkg in "${packages[@]}"; do
	if ! dpkg -s "$pkg" >/dev/null 2>&1; then
		missing+=("$pkg")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "setup.sh: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "setup.sh: not root; install these first: ${missing[*]}" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
