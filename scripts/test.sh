#!/usr/bin/env bash
# Installs what the tests need (Debian packages when root, clustertop into .venv), then runs
# ruff, mypy and the whole test suite. The tests start their own sshd and dockerd instances.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(openssh-server openssh-client docker.io busybox-static tmux procps gawk mawk chromium pdsh iptables prometheus prometheus-node-exporter victoria-metrics slurm-wlm munge podman)
missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages: ${missing[*]} (run as root to install them; tests needing them skip)"
  fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# The benchmark's smoke test runs every peer (clush) and draws the plot (matplotlib).
.venv/bin/python -m pip install -q -r benchmarks/requirements.txt

.venv/bin/ruff check src tests benchmarks scripts
.venv/bin/ruff format --check src tests benchmarks scripts
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/pytest "$@"
