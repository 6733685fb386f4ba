# clustertop probe, per-tick part: one long-lived awk that prints a whole frame for each tick
# line the shell writes, without starting any process. Lines in and out: protocol.md.
# Variables from the shell: N (frame marker), D (temp dir), TOP (processes per list), HZ, MAWK
# (1: this is mawk in interactive mode, which cannot read NULs: arguments come from ps).
function catfile(f,   line) {
	while ((getline line < f) > 0) print line
	close(f)
}
function firstline(f,   line) {
	line = ""
	if ((getline line < f) <= 0) line = ""
	close(f)
	return line
}
function keyval(f, key,   line, a, r) { # value after "key" in file f ("" if none)
	r = ""
	while ((getline line < f) > 0) if (index(line, key " ") == 1) {
		split(line, a, " ")
		r = a[2]
		break
	}
	close(f)
	return r
}
function clean(s) { # control characters (and NUL) as "?"; UTF-8 bytes stay
	gsub(/[^ -~\200-\377]/, "?", s)
	return s
}
function section_file(name,   rcline, a) { # a background job's last output, or "same"
	rcline = firstline(D "/" name ".rc")
	if (rcline == "") return
	split(rcline, a, " ")
	RCST[name] = a[2]
	if (rcline == LAST[name]) { print N " same " name " " a[2]; return }
	LAST[name] = rcline
	print N " b " name
	catfile(D "/" name "." a[3])
	print ""
	print N " e " name " " a[1] " " a[2]
	if (name == "docker") containers_changed(D "/docker." a[3])
}
function sample(name,   f, up, line, body, whole) { # the latest whole sample of D/name.cur
	f = D "/" name ".cur"
	if ((getline up < f) <= 0 || up == SUP[name]) { close(f); return }
	body = ""; whole = 0
	while ((getline line < f) > 0) {
		if (line == "@end") { whole = 1; break }
		body = body line "\n"
	}
	close(f)
	# A sample being rewritten right now reads short (no "@end"): keep the last whole one.
	if (whole) { SUP[name] = up; SBODY[name] = body }
}
function gpu_section(   rc, n, i, lines, aup) {
	sample("gpu"); sample("apps")
	if (SUP["gpu"] == "") return
	aup = SUP["apps"] == "" ? "-" : SUP["apps"]
	if (SUP["gpu"] == LAST["gpu"] && aup == LAST["apps"]) { print N " same gpu " SUP["gpu"]; return }
	LAST["gpu"] = SUP["gpu"]; LAST["apps"] = aup
	print N " b gpu"
	rc = 0
	n = split(SBODY["gpu"], lines, "\n")
	for (i = 1; i < n; i++) {
		if (index(lines[i], "@rc ") == 1) rc = substr(lines[i], 5)
		else print lines[i]
	}
	print N " apps " rc " " aup
	n = split(SBODY["apps"], lines, "\n")
	for (i = 1; i < n; i++) if (index(lines[i], "@rc ") != 1) print lines[i]
	print ""
	print N " e gpu " rc " " SUP["gpu"]
}
function containers_changed(f,   line, a) { # (id, host pid) of running containers, from file f
	for (id in CPID) delete CPID[id]
	for (id in CGPID) delete CGPID[id]
	while ((getline line < f) > 0) {
		if (index(line, N " logs") == 1) break
		split(line, a, " ")
		if (length(a[1]) == 64 && a[2] + 0 > 0) CPID[a[1]] = a[2]
	}
	close(f)
}
function cgroup_paths(pid,   f, line, a) { # sets CPU_P, MEM_P (cgroup v1) or V2
	CPU_P = ""; MEM_P = ""; V2 = ""; f = "/proc/" pid "/cgroup"
	while ((getline line < f) > 0) {
		split(line, a, ":")
		if (a[1] == "0" && a[2] == "") V2 = a[3]
		else if (a[2] ~ /(^|,)cpuacct(,|$)/) CPU_P = "/sys/fs/cgroup/" a[2] a[3]
		else if (a[2] ~ /(^|,)memory(,|$)/) MEM_P = "/sys/fs/cgroup/" a[2] a[3]
	}
	close(f)
}
function container_usage(id, pid,   u, m, inact, cpu) {
	# A container's cgroup does not move while its main process lives: read it once.
	if (CGPID[id] != pid) { cgroup_paths(pid); CGPID[id] = pid; CGC[id] = CPU_P; CGM[id] = MEM_P; CGV[id] = V2 }
	CPU_P = CGC[id]; MEM_P = CGM[id]; V2 = CGV[id]
	if (CPU_P == "" && V2 != "") {
		u = keyval("/sys/fs/cgroup" V2 "/cpu.stat", "usage_usec"); if (u != "") u = u * 1000
		m = firstline("/sys/fs/cgroup" V2 "/memory.current")
		inact = keyval("/sys/fs/cgroup" V2 "/memory.stat", "inactive_file")
	} else {
		u = firstline(CPU_P "/cpuacct.usage")
		m = firstline(MEM_P "/memory.usage_in_bytes")
		inact = keyval(MEM_P "/memory.stat", "total_inactive_file")
	}
	if (m != "" && inact != "" && m + 0 >= inact + 0) m = m - inact
	cpu = "-"
	if (u != "" && (id in PU) && UP > PUP[id] && u + 0 >= PU[id] + 0)
		cpu = sprintf("%.1f", (u - PU[id]) / ((UP - PUP[id]) * 1e7))
	if (u != "") { PU[id] = u; PUP[id] = UP }
	print "k", id, cpu, (m == "" ? "-" : m)
}
function container_of(pid,   f, line, r) {
	f = "/proc/" pid "/cgroup"; r = "-"
	while ((getline line < f) > 0) if (match(line, HEXRE)) { r = substr(line, RSTART, 64); break }
	close(f)
	return r
}
function user_of(pid,   f, line, a, uid, cmd) { # effective user, like ps
	f = "/proc/" pid "/status"; uid = ""
	while ((getline line < f) > 0) if (index(line, "Uid:") == 1) { split(line, a, " "); uid = a[3]; break }
	close(f)
	if (uid == "") return "?"
	if (!(uid in UNAME)) {
		cmd = "getent passwd " uid
		line = ""
		cmd | getline line
		close(cmd)
		split(line, a, ":")
		UNAME[uid] = (a[1] != "" ? a[1] : uid)
	}
	return UNAME[uid]
}
function cmdline_of(pid,   f, line, r) { # the arguments, NULs and control characters as spaces
	f = "/proc/" pid "/cmdline"; r = ""
	while ((getline line < f) > 0) {
		gsub(/[^ -~\200-\377]/, " ", line)  # before joining: mawk cuts a string at a NUL
		r = (r == "" ? line : r " " line)
	}
	close(f)
	sub(/ +$/, "", r)
	return r
}
function ps_args(list,   cmd, line, p) { # arguments of several processes with one ps
	cmd = "exec 2>/dev/null; ps -ww -o pid= -o args= -p " list
	while ((cmd | getline line) > 0) {
		sub(/^ +/, "", line)
		p = line; sub(/ .*/, "", p)
		sub(/^[0-9]+ ?/, "", line)
		if (p in ARGS) ARGS[p] = clean(line)
	}
	close(cmd)
}
function keep(arr, n, pid, val,   i, j) { # insert pid into top-n list arr, ordered by val
	if ((n in arr) && val <= KV[arr[n]]) return  # the common case: not in the top n
	for (i = 1; i <= n; i++) if (!(i in arr) || val > KV[arr[i]]) break
	if (i > n) return
	for (j = n; j > i; j--) if ((j - 1) in arr) arr[j] = arr[j - 1]
	arr[i] = pid
}
function gpu_pids(   n, i, lines, a) {
	for (p in GP) delete GP[p]
	n = split(SBODY["apps"], lines, "\n")
	for (i = 1; i < n; i++) {
		split(lines[i], a, ",")
		if (a[3] + 0 > 0) GP[a[3] + 0] = 1
	}
}
function procs(   f, line, a, i, n, pid, path, rest, comm, t, st, tot, ncpu, pc, id, args, full) {
	print N " b procs"
	f = "/proc/stat"; ncpu = 0
	while ((getline line < f) > 0) {
		# Only cpu and btime lines are split: "intr" has a field per interrupt (thousands).
		if (index(line, "cpu ") == 1) {
			split(line, a, " ")
			tot = 0
			for (i = 2; i <= 9; i++) tot += a[i]
			print "cpu", a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]
		} else if (index(line, "cpu") == 1) ncpu++
		else if (index(line, "btime ") == 1) print "btime", substr(line, 7)
	}
	close(f)
	print "ncpu", ncpu
	for (pid in D_) delete D_[pid]
	for (path in READ) delete READ[path]
	full = ($5 == 1)
	gpu_pids()
	if (full) for (i = 6; i <= NF; i++) READ[$i] = 1
	else {
		# Between full scans (no host screen open) only GPU processes are read again; "keep"
		# tells the client that the other processes keep their rows from the last full scan.
		print "keep"
		for (pid in GP) READ["/proc/" pid] = 1
	}
	for (path in READ) {
		f = path "/stat"
		if ((getline line < f) <= 0) { close(f); continue }
		close(f)
		pid = substr(path, 7)
		# "pid (comm) state ppid ...": comm may hold spaces and ")", so split at the last ") ".
		n = split(line, a, ") ")
		rest = a[n]
		split(rest, a, " ")
		t = a[12] + a[13]; st = a[20]
		if (n == 2) comm = substr(line, length(pid) + 3, length(line) - length(rest) - length(pid) - 4)
		else { comm = line; sub(/^[0-9]+ \(/, "", comm); sub(/\) [^)]*$/, "", comm) }
		NT[pid] = t; NST[pid] = st; RSS[pid] = a[22]; COMM[pid] = comm; STATE[pid] = a[1]
		# CPU share since this process was last read (each process keeps its own reference).
		if ((pid in PT) && PST[pid] == st && ncpu > 0 && tot > PTOTP[pid])
			D_[pid] = 100 * (t - PT[pid]) / ((tot - PTOTP[pid]) / ncpu)
		else if (UP * HZ > st + HZ / 10)  # first sight: its average since it started, as ps shows
			D_[pid] = 100 * t / (UP * HZ - st)
		else D_[pid] = -1
	}
	for (pid in SHOW) delete SHOW[pid]
	if (full) {
		for (i in BYCPU) delete BYCPU[i]
		for (i in BYMEM) delete BYMEM[i]
		for (pid in D_) { KV[pid] = D_[pid]; keep(BYCPU, TOP, pid, KV[pid]) }
		for (pid in D_) { KV[pid] = RSS[pid] + 0; keep(BYMEM, TOP, pid, KV[pid]) }
		for (i = 1; i <= TOP; i++) { if (i in BYCPU) SHOW[BYCPU[i]] = 1; if (i in BYMEM) SHOW[BYMEM[i]] = 1 }
	}
	for (pid in GP) if (pid in D_) SHOW[pid] = 1
	for (pid in SHOW) if (!((pid in ARGS) && ARGST[pid] == NST[pid])) {
		# A new process (or a reused PID): container, user and arguments are read once.
		ARGS[pid] = MAWK ? "" : cmdline_of(pid); ARGST[pid] = NST[pid]
		CID[pid] = container_of(pid); USER[pid] = user_of(pid)
		if (MAWK) NEWARGS = NEWARGS (NEWARGS == "" ? "" : ",") pid
	}
	if (NEWARGS != "") { ps_args(NEWARGS); NEWARGS = "" }
	for (pid in SHOW) {
		pc = D_[pid] >= 0 ? sprintf("%.1f", D_[pid]) : "-"
		# The arguments go over the wire once per process; "=" means "as sent before".
		args = (SENT[pid] == NST[pid]) ? "=" : ARGS[pid]
		SENT[pid] = NST[pid]
		printf "p %s %s %s %s %s %s %s\t%s\t%s\n", pid, pc, RSS[pid], NST[pid], STATE[pid], \
			CID[pid], USER[pid], clean(COMM[pid]), args
	}
	# Containers' CPU and memory show only on the host screen, which asks for full scans.
	if (full) for (id in CPID) container_usage(id, CPID[id])
	# Keep this reading as each process's reference; forget processes no longer followed.
	for (pid in D_) { PT[pid] = NT[pid]; PST[pid] = NST[pid]; PTOTP[pid] = tot }
	if (full) for (pid in NT) if (!(pid in D_)) forget(pid)
	print ""
	print N " e procs 0 " UP
}
function forget(pid) {
	delete NT[pid]; delete NST[pid]; delete RSS[pid]; delete COMM[pid]; delete STATE[pid]
	delete KV[pid]; delete ARGS[pid]; delete ARGST[pid]; delete CID[pid]; delete USER[pid]
	delete PT[pid]; delete PST[pid]; delete PTOTP[pid]; delete SENT[pid]
}
function meminfo(   f, line) { # only the lines the client reads
	f = "/proc/meminfo"
	while ((getline line < f) > 0)
		if (line ~ /^(MemTotal|MemFree|MemAvailable|Buffers|Cached|SReclaimable|SwapTotal|SwapFree):/) print line
	close(f)
}
function pending(name, started) { # a job started at `started` that has not written its .rc yet
	if (started != "-" && RCST[name] != started) print N " p " name " " started
}
BEGIN {
	HEXRE = "[0-9a-f]"; for (i = 1; i < 64; i++) HEXRE = HEXRE "[0-9a-f]"
	while ((getline line < "/etc/passwd") > 0) { split(line, a, ":"); UNAME[a[3]] = a[1] }
	close("/etc/passwd")
}
$1 == "q" { exit }
$1 == "t" {
	UP = firstline("/proc/uptime"); sub(/ .*/, "", UP)
	print N " t " $2 " " UP
	print N " b sys"
	catfile("/proc/loadavg"); meminfo()
	print ""
	print N " e sys 0 " UP
	gpu_section()
	section_file("disks")
	section_file("docker")
	procs()
	pending("disks", $3)
	pending("docker", $4)
	print N " d " $2
	fflush()
}
