# clustertop action prelude (POSIX sh), sent to `sh -s` after the client's parameter lines:
# SUDO (1: run docker and kill through `sudo -n`), DOCKERHOST (DOCKER_HOST to use; empty: the host's),
# ENGINE (docker | podman: the container engine a container action goes to).
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LC_ALL=C
export PATH LC_ALL
[ -n "$DOCKERHOST" ] && DOCKER_HOST=$DOCKERHOST && export DOCKER_HOST

result() { # OUTCOME DETAIL: the one result line the client reads; ends the script
	printf 'CTRESULT %s %s\n' "$1" "$2"
	exit 0
}

first() { # TEXT: its first non-empty line (a host's error message, one line for the result)
	printf '%s\n' "$1" | awk 'NF { print; exit }'
}

missing() { # [docker|podman]: print why sudo (or the engine) cannot run here; status 1 when nothing is missing
	if [ "$SUDO" = 1 ] && ! command -v sudo >/dev/null 2>&1; then
		echo "sudo: command not found on this host"
		return 0
	fi
	if [ -n "$1" ] && ! command -v "$1" >/dev/null 2>&1; then
		echo "$1: command not found on this host"
		return 0
	fi
	return 1
}

dk() { # docker ARGS...: through sudo -n when asked; DOCKER_HOST as a flag, since sudo resets the env
	[ -n "${DOCKER_HOST:-}" ] && set -- -H "$DOCKER_HOST" "$@"
	if [ "$SUDO" = 1 ]; then sudo -n docker "$@"; else docker "$@"; fi
}

ce() { # ENGINE ARGS...: the container engine, docker (through dk) or podman (through sudo -n when asked)
	if [ "${ENGINE:-docker}" != podman ]; then
		dk "$@"
	elif [ "$SUDO" = 1 ]; then
		sudo -n podman "$@"
	else
		podman "$@"
	fi
}
