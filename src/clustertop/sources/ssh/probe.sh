# clustertop remote probe (POSIX sh). Sent over the SSH connection to `sh -s`; nothing is installed.
# Set before this text by the client: N (frame marker, random), DL (section deadline, s), TOPN,
# GPUQ, APPQ (nvidia-smi query fields), DTPL (docker inspect template), NVSMI, DOCKERCMD.
# Protocol: after "$N ready", each stdin line "t SEQ" makes one frame on stdout:
#   $N t SEQ UPTIME / per section: $N b NAME ... $N e NAME RC STARTED / or $N p NAME STARTED / $N d SEQ
# A section runs in the background with its own deadline; one still running from an earlier tick is
# reported as pending and never started twice. EOF on stdin (connection gone) ends the probe and
# everything it started; its temp dir is removed.
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LC_ALL=C
export PATH LC_ALL
umask 077
[ -n "$DOCKERHOST" ] && DOCKER_HOST=$DOCKERHOST && export DOCKER_HOST
d=$(mktemp -d "${TMPDIR:-/tmp}/clustertop.XXXXXX") || { echo "$N fatal cannot create a temp dir"; exit 1; }
all=""
cleanup() { # only our own jobs: kill 0 when we lead our process group (sshd makes us), else each job
	trap - EXIT HUP TERM INT PIPE USR1
	rm -rf "$d"
	if [ "$pgid" = "$$" ]; then kill 0 2>/dev/null; else for p in $all; do kill "$p" 2>/dev/null; done; fi
}
pgid=""
read -r _ _ _ _ pgid _ </proc/$$/stat 2>/dev/null
trap cleanup EXIT
trap 'exit 0' HUP TERM INT PIPE
fired=0
trap 'fired=1' USR1
sleep 0.01 2>/dev/null || DL=${DL%.*}
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
PG=$(getconf PAGESIZE 2>/dev/null || echo 4096)
pids=""
up=0
DFGNU=0
df -P -T -B1 -l / >/dev/null 2>&1 && DFGNU=1

job() { # NAME FUNCTION: run FUNCTION in the background unless NAME is still running
	eval "st=\${t_$1:-}"
	[ -n "$st" ] && return 0
	eval "t_$1=\$up"
	( $2 >"$d/$1.tmp" 2>&1 </dev/null; rc=$?; mv -f "$d/$1.tmp" "$d/$1.out"; echo "$rc" >"$d/$1.rc" ) &
	pids="$pids $!"
	all="$all $!"
}

waitjobs() { # wait for this tick's jobs, at most DL seconds
	[ -z "$pids" ] && return 0
	fired=0
	( sleep "$DL"; kill -USR1 $$ ) >/dev/null 2>&1 </dev/null &
	wd=$!
	for p in $pids; do
		[ "$fired" = 1 ] && break
		wait "$p" 2>/dev/null
	done
	kill "$wd" 2>/dev/null
	pids=""
}

emit() { # NAME...: print finished sections, report the others as pending
	files=""
	for s in "$@"; do
		eval "st=\${t_$s:-}"
		[ -z "$st" ] && continue
		if [ -s "$d/$s.rc" ]; then
			read -r rc <"$d/$s.rc"
			: >"$d/$s.rc"
			eval "t_$s="
			printf '%s b %s\n' "$N" "$s" >"$d/$s.head"
			printf '\n%s e %s %s %s\n' "$N" "$s" "$rc" "$st" >"$d/$s.tail"
			files="$files $d/$s.head $d/$s.out $d/$s.tail"
		else
			printf '%s p %s %s\n' "$N" "$s" "$st"
		fi
	done
	[ -n "$files" ] && cat $files
	return 0
}

gpu() {
	if ! command -v "$NVSMI" >/dev/null 2>&1; then echo "nvidia-smi: not found"; return 127; fi
	"$NVSMI" --query-gpu="$GPUQ" --format=csv,noheader,nounits
	rc=$?
	echo "$N apps $rc"
	"$NVSMI" --query-compute-apps="$APPQ" --format=csv,noheader,nounits
	return $rc
}

disks() {
	if [ "$DFGNU" = 1 ]; then df -P -T -B1 -l; else df -P -k; fi
	rc=$?
	echo "$N inodes"
	if [ "$DFGNU" = 1 ]; then df -P -i -l; else df -P -i; fi
	return $rc
}

docker_ps() {
	if ! command -v "$DOCKERCMD" >/dev/null 2>&1; then echo "docker: not found"; return 127; fi
	ids=$("$DOCKERCMD" ps -a -q --no-trunc 2>&1) || { echo "$ids"; return 1; }
	[ -z "$ids" ] && return 0
	"$DOCKERCMD" inspect --format "{{.Id}} {{.State.Pid}} {{.LogPath}} $DTPL" $ids || return $?
	echo "$N logs"
	logs=""
	while read -r _ _ log _; do
		case $log in /*) logs="$logs $log" ;; esac
	done <"$d/docker.tmp"
	set -f
	[ -n "$logs" ] && stat -c '%s %n' $logs 2>/dev/null
	set +f
	return 0
}

procs() {
	cat /proc/uptime /proc/stat /proc/[0-9]*/stat 2>/dev/null | awk -v top="$TOPN" -v prev="$d/procs.prev" \
		-v gfile="$d/gpu.out" -v dfile="$d/docker.out" -v N="$N" -v sel="$d/procs.sel" '
function cg(pid,   f, line, a, v1, v2, mem) { # cgroup paths of pid: sets CPU_P, MEM_P, V2
	CPU_P = ""; MEM_P = ""; V2 = ""; f = "/proc/" pid "/cgroup"
	while ((getline line < f) > 0) {
		split(line, a, ":")
		if (a[1] == "0" && a[2] == "") V2 = a[3]
		else if (a[2] ~ /(^|,)cpuacct(,|$)/) CPU_P = "/sys/fs/cgroup/" a[2] a[3]
		else if (a[2] ~ /(^|,)memory(,|$)/) MEM_P = "/sys/fs/cgroup/" a[2] a[3]
	}
	close(f)
}
function cid(pid,   f, line, r) {
	f = "/proc/" pid "/cgroup"; r = "-"
	while ((getline line < f) > 0) if (match(line, hexre)) { r = substr(line, RSTART, 64); break }
	close(f)
	return r
}
function firstval(f, key,   line, a, r) { # value of "key N" in file f, or the first line when key == ""
	r = ""
	while ((getline line < f) > 0) {
		if (key == "") { r = line; break }
		split(line, a, " "); if (a[1] == key) { r = a[2]; break }
	}
	close(f)
	return r
}
function ctr(id, pid,   u, m, inact) {
	cg(pid)
	if (CPU_P == "" && V2 != "") {
		u = firstval("/sys/fs/cgroup" V2 "/cpu.stat", "usage_usec"); if (u != "") u = u * 1000
		m = firstval("/sys/fs/cgroup" V2 "/memory.current", "")
		inact = firstval("/sys/fs/cgroup" V2 "/memory.stat", "inactive_file")
	} else {
		u = firstval(CPU_P "/cpuacct.usage", "")
		m = firstval(MEM_P "/memory.usage_in_bytes", "")
		inact = firstval(MEM_P "/memory.stat", "total_inactive_file")
	}
	if (m != "" && inact != "" && m + 0 >= inact + 0) m = m - inact
	if (u == "") { print "k", id, "-", (m == "" ? "-" : m); return }
	cu[id] = u
	if ((id in pu) && upt > pupt && u + 0 >= pu[id] + 0)
		printf "k %s %.1f %s\n", id, (u - pu[id]) / ((upt - pupt) * 1e7), (m == "" ? "-" : m)
	else print "k", id, "-", (m == "" ? "-" : m)
}
function keep(arr, n, pid, val,   i, j) { # insert pid into top-n list arr (by val)
	for (i = 1; i <= n; i++) if (!(i in arr) || val > KV[arr[i]]) break
	if (i > n) return
	for (j = n; j > i; j--) if ((j - 1) in arr) arr[j] = arr[j - 1]
	arr[i] = pid
}
BEGIN {
	hexre = "[0-9a-f]"; for (i = 1; i < 64; i++) hexre = hexre "[0-9a-f]"
	while ((getline line < prev) > 0) {
		split(line, a, " ")
		if (a[1] == "T") { ptot = a[2]; pupt = a[3] }
		else if (a[1] == "K") pu[a[2]] = a[3]
		else { pt[a[1]] = a[2]; pst[a[1]] = a[3] }
	}
	close(prev)
	ing = 0
	while ((getline line < gfile) > 0) {
		if (index(line, N " apps") == 1) { ing = 1; continue }
		if (ing) { n = split(line, a, ","); p = a[2] + 0; if (p > 0) gp[p] = 1 }
	}
	close(gfile)
}
NR == 1 { upt = $1; next }
$1 == "cpu" { tot = 0; for (i = 2; i <= 9 && i <= NF; i++) tot += $i; print "cpu", $2, $3, $4, $5, $6, $7, $8, $9; next }
/^cpu[0-9]/ { ncpu++; next }
$1 == "btime" { print "btime", $2; next }
/^[0-9]+ \(/ {
	pid = $1; rest = $0; sub(/^[0-9]+ \(/, "", rest)
	comm = rest; sub(/\) [^)]*$/, "", comm)
	sub(/.*\) /, "", rest)
	split(rest, f, " ")
	t = f[12] + f[13]; st = f[20]; rss = f[22]
	T[pid] = t; ST[pid] = st; RSS[pid] = rss; COMM[pid] = comm; S[pid] = f[1]
	if ((pid in pt) && pst[pid] == st) D[pid] = t - pt[pid]; else D[pid] = -1
	KV[pid] = D[pid]; keep(bycpu, top, pid, D[pid])
}
END {
	print "ncpu", ncpu
	dt = (ncpu > 0 && ptot != "") ? (tot - ptot) / ncpu : 0
	for (pid in RSS) { KV[pid] = RSS[pid] + 0; keep(bymem, top, pid, KV[pid]) }
	for (i = 1; i <= top; i++) { if (i in bycpu) want[bycpu[i]] = 1; if (i in bymem) want[bymem[i]] = 1 }
	for (p in gp) if (p in RSS) want[p] = 1
	list = ""
	for (pid in want) {
		pc = (D[pid] >= 0 && dt > 0) ? sprintf("%.1f", 100 * D[pid] / dt) : "-"
		c = COMM[pid]; gsub(/[^ -~]/, "?", c)
		print "p", pid, pc, RSS[pid], ST[pid], S[pid], cid(pid), c
		list = list (list == "" ? "" : ",") pid
	}
	print list > sel; close(sel)
	while ((getline line < dfile) > 0) {
		if (index(line, N " logs") == 1) break
		split(line, a, " ")
		if (length(a[1]) == 64 && a[2] + 0 > 0) ctr(a[1], a[2])
	}
	close(dfile)
	printf "T %s %s\n", tot, upt > prev
	for (pid in T) printf "%s %s %s\n", pid, T[pid], ST[pid] > prev
	for (id in cu) printf "K %s %s\n", id, cu[id] > prev
	close(prev)
}'
	read -r list <"$d/procs.sel" 2>/dev/null
	echo "$N users"
	[ -n "$list" ] && ps -o pid= -o user:32= -o args= -p "$list" 2>/dev/null
	return 0
}

echo "$N ready 1 $$ $HZ $PG $(uname -n 2>/dev/null)"
while read -r cmd seq; do
	case $cmd in
	t) ;;
	q) exit 0 ;;
	*) continue ;;
	esac
	read -r up _ </proc/uptime
	job gpu gpu
	job disks disks
	job docker docker_ps
	printf '%s t %s %s\n' "$N" "$seq" "$up"
	printf '%s b sys\n' "$N"
	cat /proc/loadavg /proc/meminfo
	printf '\n%s e sys %s %s\n' "$N" "$?" "$up"
	waitjobs
	# Processes last: they name this tick's GPU PIDs and running containers.
	job procs procs
	waitjobs
	emit gpu disks docker procs
	printf '%s d %s\n' "$N" "$seq"
done
