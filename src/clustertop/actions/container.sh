# clustertop container action (POSIX sh), after the prelude. Parameters set by the client:
# ACT (stop | kill | restart | rm | rm-f), ID (the full 64-hex id: the only thing acted on),
# NAME (the name the user confirmed), ENGINE (docker | podman). Prints exactly one line:
# CTRESULT OUTCOME DETAIL.
if why=$(missing "$ENGINE"); then result failed "$why"; fi

# Identity: the id must still exist and still carry the confirmed name.
out=$(ce container inspect --format '{{.Id}} {{.Name}} {{.State.Status}}' "$ID" 2>&1) || {
	case $out in
	*"No such container"* | *"No such object"* | *"no such container"*)
		result gone "no container $ID on this host" ;;
	*) result failed "$(first "$out")" ;;
	esac
}
set -f
# shellcheck disable=SC2046 # the last line holds three words: id, /name, status
set -- $(printf '%s\n' "$out" | tail -n 1)
set +f
[ "$1" = "$ID" ] || result gone "no container $ID on this host"
[ "${2#/}" = "${NAME#/}" ] || result changed "container $ID is now named ${2#/}, not ${NAME#/}: nothing done"
status=$3

case $ACT in
stop) set -- stop && did=stopped ;;
kill) set -- kill && did=killed ;;
restart) set -- restart && did=restarted ;;
rm) set -- rm && did=removed ;;
rm-f) set -- rm -f && did=removed ;;
*) result failed "unknown container action $ACT" ;;
esac
if [ "$ACT" = rm ]; then
	case $status in
	running | restarting | paused)
		result failed "container is $status: not removed (force-remove stops and removes it)" ;;
	esac
fi

# The full id, never the name: a name can be given to another container in the meantime.
err=$(ce "$@" "$ID" 2>&1 >/dev/null) && result done "container $did"
case $err in
*"No such container"* | *"no such container"*)
	result gone "container $ID disappeared before $ENGINE $1" ;;
esac
result failed "$(first "$err")"
