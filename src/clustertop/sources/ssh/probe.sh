# clustertop remote probe (POSIX sh). Sent over the SSH connection to `sh -s`; nothing is installed.
# Every line it reads and prints is described in protocol.md (next to this file); the parameters
# set before this text are listed in probe.py (probe_script).
#
# Per tick almost nothing is started or woken: one long-lived awk reads the tick lines, reads /proc
# and prints the frame, and wakes this shell only on ticks with a job or a full scan due; two
# long-lived `nvidia-smi -lms` keep the latest GPU sample in a file; `docker inspect` runs when
# `docker events` says a container changed (and every DOCKEREVERY ticks), `df` every DISKEVERY
# ticks. A slow command runs in the background and is never started twice; while it runs, its
# last output is reported with its age. EOF on stdin (the connection is gone) ends the probe and
# everything it started, and removes its temp dir.
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LC_ALL=C
export PATH LC_ALL
umask 077
[ -n "$DOCKERHOST" ] && DOCKER_HOST=$DOCKERHOST && export DOCKER_HOST
# Samples are rewritten every tick: memory (/dev/shm) rather than a disk, unless TMPDIR says.
# A full one (a 64 KiB test write fails) is passed over for the next; all full: the fatal line
# says so, instead of samples that never come (timeouts).
dir=""
full=""
for base in ${TMPDIR:+"$TMPDIR"} /dev/shm /tmp; do
	[ -d "$base" ] && [ -w "$base" ] || continue
	if dir=$(mktemp -d "$base/clustertop.XXXXXX" 2>/dev/null) &&
		dd if=/dev/zero of="$dir/space" bs=4096 count=16 2>/dev/null && rm -f "$dir/space"; then
		break
	fi
	[ -n "$dir" ] && rm -rf "$dir"
	dir=""
	full="$full $base"
done
if [ -z "$dir" ]; then
	if [ -n "$full" ]; then echo "$N fatal temp dir full:$full"; else echo "$N fatal no temp dir"; fi
	exit 1
fi
pgid=""
read -r _ _ _ _ pgid _ </proc/$$/stat 2>/dev/null
awk_pid=""
gpu_pid=""
apps_pid=""
mig_pid=""
events_pid=""
gpu_tried=""
cleanup() { # our own processes only: kill 0 when we lead our process group (sshd makes us)
	trap - EXIT HUP TERM INT PIPE USR1
	exec 3>&-
	if [ "$pgid" = "$$" ]; then
		trap '' TERM
		kill 0 2>/dev/null
	else
		for p in $awk_pid $gpu_pid $apps_pid $mig_pid $events_pid; do kill "$p" 2>/dev/null; done
	fi
	# Samplers may write once more as they go: a second try removes what that left.
	rm -rf "$dir" 2>/dev/null || { sleep 1; rm -rf "$dir"; }
}
trap cleanup EXIT
trap 'exit 0' HUP TERM INT PIPE
fired=0
trap 'fired=1' USR1
sleep 0.01 2>/dev/null || DL=${DL%.*}
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
PG=$(getconf PAGESIZE 2>/dev/null || echo 4096)
# mawk 1.3.4 where there is one (Debian's and Ubuntu's default: it costs about 0.7x gawk's CPU
# per tick), else gawk, else awk. mawk needs -W interactive to answer each line at once, which
# also makes it cut /proc/PID/cmdline at the first NUL, so the frame awk reads new processes'
# arguments with a second, non-interactive mawk (AWKBIN). Old mawk (1.3.3) is passed over.
AWK=${AWKSEL:-awk}
AWKI=""
MAWK=0
if [ -z "$AWKSEL" ]; then
	case $(mawk -W version 2>&1 </dev/null) in
	"mawk 1.3."[4-9]* | "mawk 1."[4-9]* | "mawk "[2-9]*) AWK=mawk ;;
	*) command -v gawk >/dev/null 2>&1 && AWK=gawk ;;
	esac
fi
case $($AWK -W version 2>&1 </dev/null) in *mawk*) AWKI="-W interactive" && MAWK=1 ;; esac
# AMD GPUs: the amdgpu driver's sysfs (CT_SYSFS_ROOT names another root, for tests), found once
# here and read by the frame awk every tick without starting anything; the KFD driver lists the
# processes and their VRAM there too. amd-smi (else rocm-smi) runs as a slow job, for names.
SYS=${CT_SYSFS_ROOT:-/sys}
kfd="$SYS/class/kfd/kfd"
amd=0
: >"$dir/amd.cards"
: >"$dir/amd.kfd"
for card in "$SYS"/class/drm/card[0-9]*; do
	case ${card##*/} in *-*) continue ;; esac
	vendor=""
	[ -r "$card/device/vendor" ] && read -r vendor <"$card/device/vendor"
	[ "$vendor" = 0x1002 ] || continue
	device=$(cd -P "$card/device" 2>/dev/null && pwd) || continue
	hwmon=""
	for h in "$card"/device/hwmon/hwmon*; do [ -d "$h" ] && hwmon=$h && break; done
	printf '%s\t%s\t%s\t%s\n' "${card##*/}" "${device##*/}" "$card/device" "$hwmon" >>"$dir/amd.cards"
	amd=1
done
if [ "$amd" = 1 ]; then
	for node in "$kfd"/topology/nodes/[0-9]*; do
		gpu_id=""
		[ -r "$node/gpu_id" ] && read -r gpu_id <"$node/gpu_id"
		[ -n "$gpu_id" ] && [ "$gpu_id" != 0 ] && [ -r "$node/properties" ] || continue
		location=""
		domain=0
		while read -r key value; do
			case $key in location_id) location=$value ;; domain) domain=$value ;; esac
		done <"$node/properties"
		echo "kfd gpu $gpu_id $location $domain" >>"$dir/amd.kfd"
	done
fi
# No amdgpu card in sysfs (no /sys/class/drm in a container, say) but amd-smi or rocm-smi
# there: the tool is the only source (amd=2), its metrics read every AMDMETRICEVERY ticks.
if [ "$amd" = 0 ] && [ -z "$(ls "$SYS/class/drm" 2>/dev/null)" ] &&
	{ command -v "$AMDSMI" >/dev/null 2>&1 || command -v "$ROCMSMI" >/dev/null 2>&1; }; then
	amd=2
fi
# Names never change and KFD lists the processes: amd-smi (40-60 ms of CPU a run) runs static
# every AMDEVERY ticks and, only where KFD has no process list, process every AMDPROCEVERY.
amd_process=1
[ -d "$kfd/proc" ] && amd_process=0
# The frame awk asks the shell (wake) only on ticks with work for it; the shell answers (reply).
mkfifo "$dir/wake" "$dir/reply" || { echo "$N fatal cannot create a fifo"; exit 1; }
# Slurm: only where slurmd and scontrol are installed; elsewhere nothing runs and nothing is sent.
slurm=0
command -v slurmd >/dev/null 2>&1 && command -v "$SCONTROL" >/dev/null 2>&1 && slurm=1
# GNU timeout leaves the probe's process group (kill 0 would miss it) unless --foreground.
slurm_timeout=""
if [ "$slurm" = 1 ] && timeout --foreground 5 true >/dev/null 2>&1; then
	slurm_timeout="timeout --foreground $SLURMWAIT"
elif [ "$slurm" = 1 ] && command -v timeout >/dev/null 2>&1; then
	slurm_timeout="timeout $SLURMWAIT"
fi
ibdirs="" # InfiniBand ports, found once: awk reads their counters each tick
for d in /sys/class/infiniband/*/ports/*/counters; do [ -d "$d" ] && ibdirs="$ibdirs $d"; done
pids=""
up=0
disks_started=""
disks_slot=0
docker_started=""
docker_slot=0
amd_started=""
amd_slot=0
slurm_started=""
slurm_slot=0
slurm_want=""
slurm_at=0

write_cur() { # NAME TEXT: a sample written here, in the sampler's format (collect.awk)
	read -r now _ </proc/uptime
	printf '%s\n%s@end\n' "$now" "$2" >"$dir/$1.cur"
}

gpu_loop() { # NAME OPTION FIELDS
	{ "$NVSMI" "$2=$3" --format=csv,noheader,nounits -lms "$LMS" 2>&1; echo "@rc $?"; } </dev/null |
		$AWK $AWKI -v KIND="$1" -v DIR="$dir" "$COLLECTPROG" 2>/dev/null
}

# MIG devices change rarely and `nvidia-smi -q -x` is slow: one MIG sample (`-L`, then the XML
# cut to the GPU ids, <mig_devices> and <processes>, the parts the client reads) every MIGS s,
# only while a GPU reports MIG mode Enabled (the last field of the GPU sample's rows). What comes
# before the XML (nvidia-smi's error when it refuses) is kept: it says why.
MIGXML='/<\?xml/ { xml = 1 }
!xml && !/^@rc / { print }
/<mig_devices[ >\/]|<processes[ >\/]/ { inside = 1 }
inside || /^@rc |<\?xml|<\/?nvidia_smi_log>|<gpu id=|<\/gpu>|<uuid>/ { print }
/<\/mig_devices>|<\/processes>|<mig_devices *\/>|<processes *\/>/ { inside = 0 }'

mig_loop() { # while the frame awk finds a GPU in MIG mode (it writes mig.on); then it ends
	while [ -s "$dir/mig.on" ]; do
		sample=$(
			"$NVSMI" -L 2>&1 </dev/null
			echo "@xml"
			{ "$NVSMI" -q -x 2>&1 </dev/null; echo "@rc $?"; } | $AWK "$MIGXML"
		)
		# -q -x refused (or failed): the plain table's "MIG devices:" part serves instead.
		case $sample in *"@rc 0") ;; *) sample="$sample
@table
$("$NVSMI" 2>&1 </dev/null)" ;; esac
		write_cur mig "$sample
"
		sleep "$MIGS"
	done
}

mig_watch() { # the MIG sampler runs only while a GPU is in MIG mode: no process otherwise
	[ -s "$dir/mig.on" ] || return 0
	[ -n "$mig_pid" ] && kill -0 "$mig_pid" 2>/dev/null && return 0
	mig_loop </dev/null >/dev/null 2>&1 &
	mig_pid=$!
}

gpu_watch() { # keep the samplers running; retry a failed one every 30 s
	if [ -n "$gpu_pid" ] && kill -0 "$gpu_pid" 2>/dev/null; then return 0; fi
	read -r up _ </proc/uptime
	[ -n "$gpu_tried" ] && [ "${up%.*}" -lt $((${gpu_tried%.*} + 30)) ] && return 0
	gpu_tried=$up
	[ -n "$apps_pid" ] && kill "$apps_pid" 2>/dev/null
	[ -n "$mig_pid" ] && kill "$mig_pid" 2>/dev/null
	if ! command -v "$NVSMI" >/dev/null 2>&1; then
		write_cur gpu "nvidia-smi: not found
@rc 127
"
		gpu_pid=""
		return 0
	fi
	gpu_loop gpu --query-gpu "$GPUQ" &
	gpu_pid=$!
	gpu_loop apps --query-compute-apps "$APPQ" &
	apps_pid=$!
	mig_pid=""
}

amd_run() { # KIND COMMAND...: a part line "KIND RC" (protocol.md), then the command's output
	amd_kind=$1
	shift
	amd_text=$("$@" 2>&1 </dev/null)
	amd_rc=$?
	echo "$N $amd_kind $amd_rc"
	printf '%s\n' "$amd_text"
	return $amd_rc
}

amd_tool() { # the slow AMD job (amd_due: static, process or both): amd-smi, else rocm-smi
	if command -v "$AMDSMI" >/dev/null 2>&1; then
		case $amd_due in *static*) amd_run amd-static "$AMDSMI" static --json ;; esac
		case $amd_due in *process*) amd_run amd-process "$AMDSMI" process --json ;; esac
		case $amd_due in *metric*) amd_run amd-metric "$AMDSMI" metric --json ;; esac
	elif command -v "$ROCMSMI" >/dev/null 2>&1; then
		case $amd_due in *static* | *metric*) amd_run rocm-smi "$ROCMSMI" $ROCMARGS ;; esac
	fi
}

job() { # NAME FUNCTION LAST_STARTED LAST_SLOT: FUNCTION in the background, unless its last run
	# (started at LAST_STARTED) still goes; sets started and slot, returns 1 when not started.
	# NAME.rc = "RC STARTED SLOT" once a run ends.
	if [ -n "$3" ]; then
		rc_started=""
		[ -r "$dir/$1.rc" ] && read -r _ rc_started _ <"$dir/$1.rc"
		[ "$rc_started" != "$3" ] && return 1
	fi
	read -r started _ </proc/uptime
	# Two output files in turn: the last finished output stays whole while the next is written.
	slot=$((1 - ${4:-0}))
	out="$dir/$1.$slot"
	(
		$2 >"$out" 2>&1 </dev/null
		echo "$? $started $slot" >"$dir/$1.rc"
	) &
	pids="$pids $!"
}

first_wait() { # the first frame waits (at most DL s) for the first readings
	fired=0
	(sleep "$DL" && kill -USR1 $$) >/dev/null 2>&1 </dev/null &
	timer=$!
	for p in $pids; do
		[ "$fired" = 1 ] && break
		wait "$p" 2>/dev/null
	done
	while [ "$fired" = 0 ] && [ -n "$gpu_pid" ] && [ ! -s "$dir/gpu.cur" ]; do
		sleep 0.05 2>/dev/null || break
	done
	# The frame awk starts the MIG sampler from the next tick on; the first frame waits for it.
	[ -n "$gpu_pid" ] && grep -q 'Enabled$' "$dir/gpu.cur" 2>/dev/null && echo 1 >"$dir/mig.on" && mig_watch
	while [ "$fired" = 0 ] && [ -n "$mig_pid" ] && [ ! -s "$dir/mig.cur" ]; do
		sleep 0.05 2>/dev/null || break
	done
	kill "$timer" 2>/dev/null
}

disks() { # which df this is, found by the first run (in the background: df can hang)
	flavour=""
	[ -r "$dir/df.flavour" ] && read -r flavour <"$dir/df.flavour"
	if [ -z "$flavour" ]; then
		# GNU df gives sizes and inodes in one run with --output (coreutils >= 8.21); else two.
		flavour=0
		if df -B1 -l --output=$DFCOLS / >/dev/null 2>&1; then
			flavour=2
		elif df -P -T -B1 -l / >/dev/null 2>&1; then
			flavour=1
		fi
		echo "$flavour" >"$dir/df.flavour"
	fi
	if [ "$flavour" = 2 ]; then df -B1 -l --output=$DFCOLS; return; fi
	if [ "$flavour" = 1 ]; then df -P -T -B1 -l; else df -P -k; fi
	rc=$?
	echo "$N inodes"
	if [ "$flavour" = 1 ]; then df -P -i -l; else df -P -i; fi
	return $rc
}

docker_list() {
	if ! command -v "$DOCKERCMD" >/dev/null 2>&1; then echo "docker: not found"; return 127; fi
	ids=$("$DOCKERCMD" ps -a -q --no-trunc 2>&1) || { echo "$ids"; return 1; }
	[ -z "$ids" ] && return 0
	# Kept in a variable, not re-read from the output file: sh's read takes a byte per system
	# call (6 containers' lines: 6,600 of them).
	inspect=$("$DOCKERCMD" inspect --format "{{.Id}} {{.State.Pid}} {{.LogPath}} $DTPL" $ids 2>&1)
	rc=$?
	printf '%s\n' "$inspect"
	[ "$rc" = 0 ] || return $rc
	echo "$N logs"
	logs=""
	set -f
	nl='
'
	IFS=$nl
	for line in $inspect; do
		IFS=' '
		set -- ${line%%" {"*} # ID PID LOGPATH (the JSON is not split)
		case $3 in /*) logs="$logs $3" ;; esac
	done
	IFS=' 	
'
	[ -n "$logs" ] && stat -c '%s %n' $logs 2>/dev/null
	set +f
	return 0
}

slurm_jobs() { # `scontrol show job -d` of each job on this node (slurm_tick finds them)
	# One job per run: scontrol refuses a list of ids. A hung one ends at SLURMWAIT s where
	# `timeout` exists; meanwhile the job is reported pending and never started twice.
	for id in $slurm_ids; do
		$slurm_timeout "$SCONTROL" show job -d "$id" 2>&1 </dev/null
		[ $? = 124 ] && [ -n "$slurm_timeout" ] && echo "no answer within $SLURMWAIT s"
	done
	return 0
}

slurm_tick() { # the slurm job: on the first tick, then when the node's jobs change or every SLURMEVERY
	# The jobs on this node are its Slurm cgroups (v1 freezer, v2 slurmstepd.scope): a glob,
	# every SLURMLOOK ticks (walking cgroupfs each tick would cost more than the section).
	[ "$tick" != 1 ] && [ $((tick % SLURMLOOK)) != 0 ] && return 0
	want=""
	count=0
	for d in /sys/fs/cgroup/freezer/slurm*/uid_*/job_* /sys/fs/cgroup/system.slice/slurmstepd.scope/job_*; do
		[ -d "$d" ] && [ "$count" -lt 32 ] || continue
		case ${d##*/job_} in '' | *[!0-9]*) continue ;; esac
		want="$want ${d##*/job_}"
		count=$((count + 1))
	done
	if [ "$tick" != 1 ]; then
		[ -n "$want" ] || [ -n "$slurm_want" ] || return 0 # no job then and now: nothing to ask
		[ "$want" = "$slurm_want" ] && [ $((tick - slurm_at)) -lt "$SLURMEVERY" ] && return 0
	fi
	slurm_ids=$want
	job slurm slurm_jobs "$slurm_started" "$slurm_slot" || return 0
	slurm_want=$want
	slurm_at=$tick
	slurm_started=$started
	slurm_slot=$slot
	echo "$started" >"$dir/slurm.started"
}

# The key = value lines of podman's configuration that name storage: a plain absolute path is a
# root; a path to work out ($HOME, quotes inside, a setting whose effect is not followed here,
# such as static_dir or remote) is "-" (not sure). One awk reads them: sh's read takes a byte per
# system call (a 24 KB containers.conf: 24,000 of them, ~5 ms of CPU).
PODMANCONF='$1 != "graphroot" && $1 != "rootless_storage_path" {
	if ($1 ~ /^(graphroot|rootless_storage_path|static_dir|imagestore|remote)/) { bad = 1; exit }
	next
}
{
	v = $0; sub(/^[ \t]*[^ \t]+[ \t]*/, "", v) # the key
	eq = v; sub(/[ \t].*/, "", eq); sub(/^[^ \t]*[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
	sub(/^"/, "", v); sub(/"$/, "", v)
	if ((eq v) !~ /^=\// || v ~ /[^A-Za-z0-9\/._-]/) { bad = 1; exit }
	roots = roots " " v
}
END { if (!bad) print "+" roots }'

podman_conf() { # the roots that storage.conf and containers.conf name; "-" if not sure
	roots="/var/lib/containers/storage $podman_home/.local/share/containers/storage"
	[ -n "$XDG_DATA_HOME" ] && roots="$roots $XDG_DATA_HOME/containers/storage"
	confs=""
	for conf in $podman_confs; do
		[ -e "$conf" ] || continue
		[ -r "$conf" ] && [ -f "$conf" ] || { echo -; return; }
		confs="$confs $conf"
	done
	[ -n "$confs" ] || { echo "$roots"; return; }
	more=$($AWK "$PODMANCONF" $confs 2>/dev/null) || more=""
	case $more in "+"*) echo "$roots${more#+}" ;; *) echo - ;; esac
}

podman_roots() { # sets roots, podman's storage folders; fails when they are not known here
	[ -z "$CONTAINERS_STORAGE_CONF$CONTAINERS_CONF$CONTAINER_HOST" ] || return 1
	podman_home=${HOME:-/}
	case "$podman_home$XDG_CONFIG_HOME$XDG_DATA_HOME" in *[!A-Za-z0-9/._-]*) return 1 ;; esac
	podman_confs="/etc/containers/storage.conf /usr/share/containers/storage.conf
		${XDG_CONFIG_HOME:-$podman_home/.config}/containers/storage.conf
		/etc/containers/containers.conf /usr/share/containers/containers.conf
		${XDG_CONFIG_HOME:-$podman_home/.config}/containers/containers.conf"
	# Read once (a containers.conf is ~24 KB, which sh's read takes a byte at a time); again
	# when one of the files changes.
	cache="$dir/podman.roots"
	fresh=1
	[ -f "$cache" ] || fresh=0
	for conf in $podman_confs; do
		[ "$fresh" = 1 ] && [ -e "$conf" ] && ! [ "$cache" -nt "$conf" ] && fresh=0
	done
	[ "$fresh" = 1 ] || podman_conf >"$cache"
	roots=-
	read -r roots <"$cache"
	[ "$roots" != - ]
}

podman_same() { # podman listed no container last run, and its state is untouched since
	[ -s "$dir/podman.none" ] && [ -f "$dir/podman.ref" ] && podman_roots || return 1
	for root in $roots; do
		# Creating a container writes its list and lock; starting or ending one, the database.
		for f in "$root" "$root/libpod" "$root/libpod/bolt_state.db" "$root/db.sql" \
			"$root/db.sql-wal" "$root"/*-containers "$root"/*-containers/containers.*; do
			[ ! -e "$f" ] || [ "$dir/podman.ref" -nt "$f" ] || return 1
		done
	done
}

podman_list() { # podman's containers after Docker's (a host without podman starts nothing)
	command -v "$PODMANCMD" >/dev/null 2>&1 || return 0
	echo "$N podman"
	# A podman ps costs ~30 ms of CPU, however few containers: none last time and no change
	# to podman's state since means none now ("[]", what podman prints for none).
	if podman_same; then printf '[]\n\n@rc 0\n'; return 0; fi
	# Which timeout, found by the first run: GNU's moves itself into a process group of its own
	# (where the probe's kill 0 would miss it) unless --foreground; BusyBox's stays in ours.
	tflavour=""
	[ -r "$dir/timeout.flavour" ] && read -r tflavour <"$dir/timeout.flavour"
	if [ -z "$tflavour" ]; then
		tflavour=none
		if timeout --foreground 5 true >/dev/null 2>&1; then
			tflavour=gnu
		elif command -v timeout >/dev/null 2>&1 && timeout 5 true >/dev/null 2>&1; then
			tflavour=plain
		fi
		echo "$tflavour" >"$dir/timeout.flavour"
	fi
	: >"$dir/podman.ref" # before the run: a change made while it runs is a change
	case $tflavour in
	gnu) podman_out=$(timeout --foreground "$PODMANWAIT" "$PODMANCMD" ps -a --format json 2>&1) ;;
	plain) podman_out=$(timeout "$PODMANWAIT" "$PODMANCMD" ps -a --format json 2>&1) ;;
	*) podman_out=$("$PODMANCMD" ps -a --format json 2>&1) ;;
	esac
	podman_rc=$?
	if [ "$podman_rc" = 0 ] && [ "$podman_out" = "[]" ]; then echo 1 >"$dir/podman.none"; else : >"$dir/podman.none"; fi
	# The status on a line of its own, whatever podman's output ended with.
	printf '%s\n\n@rc %s\n' "$podman_out" "$podman_rc"
}

docker_ps() { # the docker section: Docker's containers (its status is the section's), podman's
	docker_list
	docker_rc=$?
	podman_list
	return $docker_rc
}

docker_watch() { # a container event makes the next tick re-read containers
	if [ -n "$events_pid" ] && kill -0 "$events_pid" 2>/dev/null; then return 0; fi
	command -v "$DOCKERCMD" >/dev/null 2>&1 || return 0
	{
		"$DOCKERCMD" events --filter type=container --format '{{.Action}}' 2>/dev/null </dev/null | {
			count=0
			while read -r _; do
				count=$((count + 1))
				echo "$count" >"$dir/docker.gen"
			done
		}
	} &
	events_pid=$!
}

start_awk() { # the frame awk reads the client's tick lines itself (stdin, once the script is
	# parsed) and wakes the shell through the wake fifo only on ticks with work for it
	exec 4<&0
	# The marker goes in the environment: an argument list is there for every host user to read.
	CT_MARKER=$N $AWK $AWKI -v DIR="$dir" -v TOP_N="$TOPN" -v HZ="$HZ" \
		-v ARGS_LIMIT="$ARGSMAX" -v MAWK="$MAWK" -v AWKBIN="$AWK" -v AMD="$amd" -v KFD="$kfd" -v IBDIRS="$ibdirs" \
		-v PORTEVERY="$PORTEVERY" -v PORTIDLE="$PORTIDLE" -v NFSEVERY="$DISKEVERY" -v HOLDEREVERY="$HOLDEREVERY" -v SLURM="$slurm" \
		-v WAKE="$dir/wake" -v REPLY="$dir/reply" "$AWKPROG" <&4 4<&- &
	awk_pid=$!
	exec 4<&- </dev/null
	exec 5<"$dir/wake" # opened once the awk opens its end
}

next_wake() { # the next tick with shell work: a job, a full scan (the frame awk also asks
	# every 5 ticks while a GPU sampler may need a restart: see watch_due in probe.awk)
	wake=$((tick + PROCEVERY))
	[ "$amd" != 0 ] && wake=$((tick + 1)) # the KFD process folders, every tick
	[ $((disks_tick + DISKEVERY)) -lt "$wake" ] && wake=$((disks_tick + DISKEVERY))
	[ $((docker_tick + DOCKEREVERY)) -lt "$wake" ] && wake=$((docker_tick + DOCKEREVERY))
	scan=$(((PHASE % PROCEVERY - tick % PROCEVERY + PROCEVERY) % PROCEVERY))
	[ "$scan" = 0 ] && scan=$PROCEVERY
	[ $((tick + scan)) -lt "$wake" ] && wake=$((tick + scan))
	[ "$slurm" = 1 ] && [ $((tick + SLURMLOOK - tick % SLURMLOOK)) -lt "$wake" ] &&
		wake=$((tick + SLURMLOOK - tick % SLURMLOOK))
	[ "$wake" -gt "$tick" ] || wake=$((tick + 1))
}

main() { # parsed whole before "ready" goes out, so no tick line is read as part of the script
	start_awk
	echo "$N ready 3 $$ $HZ $PG $(uname -n 2>/dev/null)"
	tick=0
	docker_gen=""
	docker_tick=-100000
	disks_tick=-100000
	amd_static_tick=-100000
	amd_checked=""
	amd_process_tick=-100000
	amd_metric_tick=-100000
	# "t SEQ FULL TICK" from the frame awk (protocol.md); its end (EOF) ends the probe.
	while read -r cmd seq full wtick <&5; do
		[ "$cmd" = t ] || continue
		tick=$wtick
		pids=""
		amdline=""
		gpu_watch
		mig_watch
		if [ "$amd" != 0 ]; then
			# A failed run (rc not 0: amd-smi refused, say) is tried again 15 ticks later.
			if [ -n "$amd_started" ] && [ "$amd_checked" != "$amd_started" ] && [ -r "$dir/amdtool.rc" ]; then
				read -r amd_rc amd_rc_started _ <"$dir/amdtool.rc"
				if [ "$amd_rc_started" = "$amd_started" ]; then
					amd_checked=$amd_started
					[ "$amd_rc" = 0 ] || amd_static_tick=$((tick - AMDEVERY + 15))
				fi
			fi
			amd_due=""
			[ $((tick - amd_static_tick)) -ge "$AMDEVERY" ] && amd_due=static
			[ "$amd_process" = 1 ] && [ $((tick - amd_process_tick)) -ge "$AMDPROCEVERY" ] &&
				amd_due="$amd_due process"
			[ "$amd" = 2 ] && [ $((tick - amd_metric_tick)) -ge "$AMDMETRICEVERY" ] &&
				amd_due="$amd_due metric"
			if [ -n "$amd_due" ] && job amdtool amd_tool "$amd_started" "$amd_slot"; then
				amd_started=$started
				amd_slot=$slot
				case $amd_due in *static*) amd_static_tick=$tick ;; esac
				case $amd_due in *process*) amd_process_tick=$tick ;; esac
				case $amd_due in *metric*) amd_metric_tick=$tick ;; esac
			fi
			# The processes using AMD GPUs now: a glob, no process started.
			set -- "$kfd"/proc/[0-9]*
			amdline="a ${amd_started:--} $*
"
		fi
		# After the first reading, each probe keeps its own phase (PHASE) for the slow sections,
		# so that hosts started together do not all scan in the same tick.
		if [ $((tick - disks_tick)) -ge "$DISKEVERY" ]; then
			if [ "$tick" = 1 ]; then disks_tick=$((1 - PHASE % DISKEVERY)); else disks_tick=$tick; fi
			job disks disks "$disks_started" "$disks_slot" && disks_started=$started && disks_slot=$slot
		fi
		gen=""
		[ -r "$dir/docker.gen" ] && read -r gen <"$dir/docker.gen"
		if [ "$gen" != "$docker_gen" ] || [ $((tick - docker_tick)) -ge "$DOCKEREVERY" ]; then
			docker_gen=$gen
			if [ "$tick" = 1 ]; then docker_tick=$((1 - PHASE % DOCKEREVERY)); else docker_tick=$tick; fi
			job docker docker_ps "$docker_started" "$docker_slot" &&
				docker_started=$started && docker_slot=$slot
			docker_watch
		fi
		[ "$slurm" = 1 ] && slurm_tick
		[ "$tick" = 1 ] && first_wait
		# awk reports a job as pending while its .rc does not carry the start time given here.
		jobs="${disks_started:--} ${docker_started:--}"
		# A full process scan on request (a host screen is open) or every PROCEVERY ticks; between
		# them awk re-reads only GPU processes and the client keeps the other rows.
		next_wake
		if [ "$full" = 1 ] || [ "$tick" = 1 ] || [ $((tick % PROCEVERY)) = $((PHASE % PROCEVERY)) ]; then
			set -- /proc/[0-9]*
			printf 'n %s\n%st %s %s 1 %s\n' "$wake" "$amdline" "$seq" "$jobs" "$*" >"$dir/reply"
		else
			printf 'n %s\n%st %s %s 0\n' "$wake" "$amdline" "$seq" "$jobs" >"$dir/reply"
		fi
	done
	exit 0
}
main
