# clustertop process signal (POSIX sh), after the prelude. Parameters set by the client:
# PID, START (unix start time the user confirmed), SIG (TERM | KILL).
# Prints exactly one line: CTRESULT OUTCOME DETAIL.
[ -r /proc/stat ] || result failed "no /proc/stat on this host (not Linux?): nothing done"
if why=$(missing); then result failed "$why"; fi

# Identity: start = btime + starttime / CLK_TCK, as the probe and psutil compute it. Compared
# exactly, in clock ticks (/proc/PID/stat field 22 is an integer): the confirmed START names one
# tick, and any other tick is another process.
st=$(cat "/proc/$PID/stat" 2>/dev/null)
[ -n "$st" ] || result gone "no process $PID on this host"
# comm (field 2) may hold spaces and ')': the fields we need follow its last ') '.
rest=${st##*) }
set -f
# shellcheck disable=SC2086 # split into the stat fields from field 3 (state) on
set -- $rest
set +f
[ $# -ge 20 ] || result failed "cannot parse /proc/$PID/stat"
state=$1
shift 19
ticks=$1
btime=$(awk '$1 == "btime" { print $2; exit }' /proc/stat)
hz=$(getconf CLK_TCK 2>/dev/null) || hz=100
case $ticks in '' | *[!0-9]*) result failed "cannot parse /proc/$PID/stat" ;; esac
# The tick START falls on (rounded: START is printed in decimals); never negative.
want=$(awk -v b="$btime" -v w="$START" -v hz="$hz" 'BEGIN { d = (w - b) * hz; printf "%.0f", d < 0 ? -1 : d }')
found=$(awk -v b="$btime" -v t="$ticks" -v hz="$hz" 'BEGIN { printf "%.2f", b + t / hz }')
[ "$ticks" = "$want" ] ||
	result changed "PID $PID is now a process started at $found, not $START (PID reused): nothing done"
[ "$state" = Z ] && result gone "process $PID has already exited (zombie)"

if [ "$SUDO" = 1 ]; then err=$(sudo -n kill -s "$SIG" "$PID" 2>&1); else err=$(kill -s "$SIG" "$PID" 2>&1); fi &&
	result done "SIG$SIG sent to PID $PID"
case $err in
*"No such process"*) result gone "process $PID exited before the signal" ;;
*"Operation not permitted"*) result failed "kill $PID: Operation not permitted" ;;
esac
result failed "$(first "$err")"
