# clustertop container log stream (POSIX sh), after the prelude. Parameters set by the client:
# ID (full 64-hex id), LINES (lines of history), TS (1: --timestamps), ENGINE (docker | podman).
# Prints the log (the container's stdout and stderr, both on our stdout) until the log ends or our
# stdin reaches EOF. Our stderr carries only this program's own words (docker missing...): the
# client shows them as its notices, which no log line can pass for.
# One brace group: the shell reads the whole program before running it, so the stdin watcher
# below can never read program text.
{
	if why=$(missing "$ENGINE"); then
		printf '%s\n' "$why" >&2
		exit 1
	fi
	set -- logs --tail "$LINES" --follow
	[ "$TS" = 1 ] && set -- "$@" --timestamps
	set -- "$@" "$ID"
	[ "$ENGINE" = docker ] && [ -n "${DOCKER_HOST:-}" ] && set -- -H "$DOCKER_HOST" "$@"
	exec 3<&0
	# Simple commands, so $! is the engine (or sudo, which passes signals on) itself.
	if [ "$SUDO" = 1 ]; then
		sudo -n "$ENGINE" "$@" </dev/null 2>&1 &
	else
		"$ENGINE" "$@" </dev/null 2>&1 &
	fi
	p=$!
	# The client closing the channel (EOF on stdin) stops the follow; nothing lingers on the host.
	{ cat >/dev/null; kill "$p"; } <&3 >/dev/null 2>&1 &
	w=$!
	exec 3<&-
	wait "$p"
	rc=$?
	kill "$w" 2>/dev/null
	exit "$rc"
}
