#!/bin/sh
# Installs what the benchmark needs (idempotent, as root): OpenSSH, gawk and pdsh from Debian;
# clustertop itself into .venv when it is not there yet; ClusterShell and matplotlib from PyPI
# into the same venv.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
venv_python="${VENV_PYTHON:-$repo/.venv/bin/python}"
missing=""
for pkg in pdsh openssh-server openssh-client gawk procps; do
	dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	# shellcheck disable=SC2086 # one word per package
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ ! -x "$venv_python" ]; then
	python3 -m venv "$repo/.venv"
	"$venv_python" -m pip install -q "$repo"
fi
if ! "$venv_python" -c 'import ClusterShell, matplotlib' >/dev/null 2>&1; then
	"$venv_python" -m pip install -q -r "$repo/benchmarks/requirements.txt"
fi
command -v pdsh >/dev/null
"$venv_python" -c 'import clustertop, ClusterShell, matplotlib'
