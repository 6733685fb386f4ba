#!/bin/sh
# Installs what the benchmark needs beyond the project's test environment (idempotent, root):
# pdsh from Debian, ClusterShell and matplotlib from PyPI into the project venv.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
venv_python="${VENV_PYTHON:-$repo/.venv/bin/python}"
if ! command -v pdsh >/dev/null 2>&1; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pdsh >/dev/null
fi
if ! "$venv_python" -c 'import ClusterShell, matplotlib' >/dev/null 2>&1; then
	"$venv_python" -m pip install -q -r "$repo/benchmarks/requirements.txt"
fi
command -v pdsh >/dev/null
"$venv_python" -c 'import ClusterShell, matplotlib'
