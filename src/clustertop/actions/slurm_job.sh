# clustertop Slurm job cancel (POSIX sh), after the prelude. Parameters set by the client:
# JOB (job id), JOBUSER (its user), JOBSTART (its StartTime) as the user confirmed them.
# Prints exactly one line: CTRESULT OUTCOME DETAIL.
if why=$(missing); then result failed "$why"; fi
for tool in squeue scancel; do
	command -v "$tool" >/dev/null 2>&1 || result failed "$tool: command not found on this host"
done

# Identity: user, start time and state as squeue prints them now ('|' is in neither a user
# name nor a time, so no job name can shift the fields).
now=$(squeue -h -j "$JOB" -o '%u|%S|%T' 2>&1)
case $now in
*"Invalid job id"*) result gone "no job $JOB on this cluster (it has ended)" ;;
"") result gone "job $JOB has ended" ;;
*"|"*"|"*) ;;
*) result failed "squeue: $(first "$now")" ;;
esac
now=$(first "$now")
user=${now%%|*}
rest=${now#*|}
start=${rest%%|*}
state=${rest#*|}
[ "$user" = "$JOBUSER" ] ||
	result changed "job $JOB now belongs to $user, not $JOBUSER: nothing done"
[ "$start" = "$JOBSTART" ] ||
	result changed "job $JOB now started at $start, not $JOBSTART (requeued or another job): nothing done"
case $state in
COMPLETED | COMPLETING | CANCELLED | FAILED | TIMEOUT | NODE_FAIL | PREEMPTED | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
	result gone "job $JOB is already $state" ;;
esac

if [ "$SUDO" = 1 ]; then err=$(sudo -n scancel "$JOB" 2>&1); else err=$(scancel "$JOB" 2>&1); fi
rc=$?
case $err in
*"already completing or completed"* | *"Invalid job id"*) result gone "job $JOB ended before scancel" ;;
esac
[ "$rc" = 0 ] && result done "scancel sent to job $JOB${err:+: $(first "$err")}"
result failed "$(first "$err")"
