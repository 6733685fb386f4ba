# clustertop probe, per-tick part: one long-lived awk that prints a whole frame for each tick
# line the shell writes, without starting any process. Lines in and out: protocol.md.
# From the shell: CT_MARKER in the environment (the frame marker, kept out of the argument list,
# which every host user can read with ps); variables DIR (temp dir), TOP_N (processes per list),
# HZ (clock ticks per second), ARGS_LIMIT (most bytes of a process's arguments sent), MAWK (1:
# this is mawk in interactive mode, which cannot read NULs: arguments come from a second mawk,
# AWKBIN, not interactive), NFSEVERY (ticks between looks for NFS mounts where none was found).
#
# State kept between ticks, by key (PID, section or container ID):
#   UPTIME                          host uptime at this tick
#   JOB_STARTED[section]            start uptime in the job's last .rc line
#   LAST_SENT[section]              what the last frame carried: .rc line or sample uptime
#   SAMPLE_UPTIME, SAMPLE_BODY      the latest whole GPU sample of each sampler ("gpu", "apps",
#                                   "mig")
#   CONTAINER_PID[id]               main PID of each running container
#   CGROUP_PID, CGROUP_CPU, CGROUP_MEM, CGROUP_V2 [id]   its cgroup paths, read for that PID
#   PREV_USAGE, PREV_USAGE_UPTIME [id]   its CPU counter at the last reading
#   USER_NAME[uid]                  from /etc/passwd, else getent
#   process [pid]: TICKS, START, RSS, STAT, STAT_AT (this scan: its stat line, where comm ends),
#   PREV_TICKS, PREV_START,
#   PREV_TOTAL (the reference for its CPU share), CPU_SHARE (this scan; -1 unknown), ARGS,
#   ARGS_START, ARGS_SENT, CONTAINER_OF, USER_OF, CGROUP_OF (read once per process)
# A frame is kept as lines in FRAME[1..NFR] and written in one piece at its end (frame_out):
# gawk flushes its output at every close() and mawk -W interactive at every print, and each
# write is a wake-up and a packet of sshd's. (Appending to one string costs gawk 3x more.)
function emit(line) {
	FRAME[++NFR] = line
}
function emit_raw(text) { # text of whole lines, each ending in a newline
	FRAME[++NFR] = substr(text, 1, length(text) - 1)
}
function frame_out(   i, s) {
	if (MAWK) { # unbuffered: one string, one write (per 64 KB)
		s = ""
		for (i = 1; i <= NFR; i++) {
			s = s FRAME[i] "\n"
			if (length(s) > 65536) { printf "%s", s; s = "" }
		}
		printf "%s", s
	} else for (i = 1; i <= NFR; i++) print FRAME[i]
	if (NFR > 4096) split("", FRAME) # a big frame's lines are not kept
	NFR = 0
	fflush()
}
function catfile(f,   line) {
	while ((getline line < f) > 0) emit(line)
	close(f)
}
function part_line(line, parts,   name) { # 1 when line is "MARKER <one of the parts>"
	if (parts == "" || index(line, MARKER " ") != 1) return 0
	name = substr(line, length(MARKER) + 2)
	return name != "" && index(" " parts " ", " " name " ") > 0
}
function body_line(line, part) { # a line of command output, never taken for a frame line
	if (index(line, MARKER) == 1 && !part_line(line, part)) line = "?" line
	# One line (a GPU process name, a container's labels) can never fill a frame by itself.
	if (length(line) > LINE_LIMIT) line = substr(line, 1, LINE_LIMIT) "\342\200\246"
	return line
}
function print_output(f, part,   line) { # file f's lines; "MARKER part" (one of the space-
	# separated names in part) may split it
	while ((getline line < f) > 0) emit(body_line(line, part))
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
function section_file(name, started,   rcline, a) { # a background job's last output, or "same"
	# The run that started last (started, from the shell) has ended and was read: its .rc
	# cannot change before the next run starts, so it is not read again.
	if (started != "" && started != "-" && JOB_STARTED[name] == started && LAST_SENT[name] != "") {
		emit(MARKER " same " name " " started)
		return
	}
	rcline = firstline(DIR "/" name ".rc")
	if (rcline == "") return
	split(rcline, a, " ")
	JOB_STARTED[name] = a[2]
	if (rcline == LAST_SENT[name]) { emit(MARKER " same " name " " a[2]); return }
	LAST_SENT[name] = rcline
	emit(MARKER " b " name)
	print_output(DIR "/" name "." a[3], name == "disks" ? "inodes" : "logs podman")
	if (name == "docker") { containers_changed(DIR "/docker." a[3]); container_netdev() }
	emit("")
	emit(MARKER " e " name " " a[1] " " a[2])
}
function container_netdev(   id, list, cmd, line, a, n, p, ns, pid, key) { # the netdev part
	# Each running container with a network namespace of its own (readable, not the host's):
	# "c ID NAMESPACE" and its init process's /proc/PID/net/dev, at the docker section's cadence.
	# Each container's main process's namespace is read once (with ls: awk cannot read a link),
	# not at every docker section.
	for (id in CONTAINER_NS) delete CONTAINER_NS[id]
	for (key in NS_OF) {
		split(key, a, " ")
		if (!(a[1] in CONTAINER_PID) || CONTAINER_PID[a[1]] != a[2]) delete NS_OF[key]
	}
	emit(MARKER " netdev")
	list = ""
	for (id in CONTAINER_PID) if (!((id " " CONTAINER_PID[id]) in NS_OF)) list = list " /proc/" CONTAINER_PID[id] "/ns/net"
	if (list != "") {
		cmd = "LC_ALL=C exec ls -l /proc/self/ns/net" list " 2>/dev/null"
		while ((cmd | getline line) > 0) {
			n = split(line, a, " ")
			if (n < 3 || a[n - 1] != "->") continue
			split(a[n - 2], p, "/")
			ns[p[3]] = a[n]
		}
		close(cmd)
		if ("self" in ns) OWN_NS = ns["self"]
		# One not readable (another user's, or gone) stays so while this PID is the container's.
		for (id in CONTAINER_PID) NS_OF[id " " CONTAINER_PID[id]] = (CONTAINER_PID[id] in ns) ? ns[CONTAINER_PID[id]] : ""
	}
	for (id in CONTAINER_PID) {
		pid = CONTAINER_PID[id]; key = id " " pid
		if (NS_OF[key] == "" || OWN_NS == "" || NS_OF[key] == OWN_NS) continue
		CONTAINER_NS[id] = pid
		emit("c " id " " NS_OF[key])
		catfile("/proc/" pid "/net/dev")
	}
}
function sample(name,   f, up, line, body, whole) { # the latest whole sample of DIR/name.cur
	f = DIR "/" name ".cur"
	if ((getline up < f) <= 0 || up == SAMPLE_UPTIME[name]) { close(f); return }
	body = ""; whole = 0
	while ((getline line < f) > 0) {
		if (line == "@end") { whole = 1; break }
		body = body line "\n"
	}
	close(f)
	# A sample being rewritten right now reads short (no "@end"): keep the last whole one.
	if (whole) { SAMPLE_UPTIME[name] = up; SAMPLE_BODY[name] = body }
}
function sample_rows(body,   n, i, lines, rc) { # prints the rows; returns "@rc" status
	rc = 0
	n = split(body, lines, "\n")
	for (i = 1; i < n; i++) {
		if (index(lines[i], "@rc ") == 1) rc = substr(lines[i], 5)
		else emit(body_line(lines[i], ""))
	}
	return rc
}
function sample_rc(body,   at) { # the "@rc" status in a sample (0 if none)
	at = index(body, "\n@rc ")
	if (at == 0) return 0
	body = substr(body, at + 5)
	sub(/\n.*/, "", body)
	return body
}
function mig_mode(   on) { # DIR/mig.on says (non-empty) whether a GPU is in MIG mode: the
	# shell runs the MIG sampler only then (the mode is the last field of the GPU rows)
	on = index(SAMPLE_BODY["gpu"], "Enabled\n") > 0 ? "1" : ""
	if (on == MIG_ON) return
	MIG_ON = on
	MIG_CHANGED = 1 # the shell starts (or lets end) the MIG sampler on the next tick
	printf "%s", (on == "" ? "" : on "\n") > (DIR "/mig.on")
	close(DIR "/mig.on")
}
function gpu_section(   rc, gpu_up, apps_up, mig_up) {
	sample("gpu")
	if (SAMPLE_UPTIME["gpu"] != LAST_GPU_UP) { LAST_GPU_UP = SAMPLE_UPTIME["gpu"]; GPU_NEW_TICK = TICK }
	if (SAMPLE_UPTIME["gpu"] != "") mig_mode()
	sample("apps")
	# No MIG sampler runs on a host never in MIG mode: nothing to open.
	if (MIG_ON == "1" || SAMPLE_UPTIME["mig"] != "") sample("mig")
	gpu_up = SAMPLE_UPTIME["gpu"]
	# AMD readings change every tick: a host with AMD GPUs always sends the section.
	if (gpu_up == "" && AMD == 0) return
	if (gpu_up == "") gpu_up = UPTIME
	apps_up = SAMPLE_UPTIME["apps"] == "" ? "-" : SAMPLE_UPTIME["apps"]
	mig_up = SAMPLE_UPTIME["mig"]
	if (AMD == 0 && gpu_up == LAST_SENT["gpu"] && apps_up == LAST_SENT["apps"] &&
	    mig_up == LAST_SENT["mig"]) {
		emit(MARKER " same gpu " gpu_up)
		return
	}
	LAST_SENT["gpu"] = gpu_up; LAST_SENT["apps"] = apps_up
	emit(MARKER " b gpu")
	rc = sample_rows(SAMPLE_BODY["gpu"])
	emit(MARKER " apps " rc " " apps_up)
	sample_rows(SAMPLE_BODY["apps"])
	# A MIG sample only when it is new: the client keeps the last one it got.
	if (mig_up != "" && mig_up != LAST_SENT["mig"]) {
		LAST_SENT["mig"] = mig_up
		emit(MARKER " mig " sample_rc("\n" SAMPLE_BODY["mig"]) " " mig_up)
		sample_rows(SAMPLE_BODY["mig"])
	}
	if (AMD != 0) amd_parts()
	emit("")
	emit(MARKER " e gpu " rc " " gpu_up)
}
function amd_parts(   i, k, v, pid, rcline, a) { # the amd part, then the amdtool part
	emit(MARKER " amd")
	for (i = 1; i <= NCARD; i++) {
		emit(CARD[i] " bus " CARD_BUS[i])
		for (k in AMD_FILE) {
			v = firstline(CARD_DEV[i] "/" AMD_FILE[k])
			if (v != "") emit(CARD[i] " " k " " clean(v))
		}
		if (CARD_HWMON[i] != "") for (k in HWMON_FILE) {
			v = firstline(CARD_HWMON[i] "/" HWMON_FILE[k])
			if (v != "") emit(CARD[i] " " k " " clean(v))
		}
	}
	for (i = 1; i <= NKFD; i++) emit(KFD_LINE[i])
	for (pid in KFD_PID) for (i = 1; i <= NKFD; i++) {
		v = firstline(KFD "/proc/" pid "/vram_" KFD_GPU[i])
		if (v ~ /^[0-9]+$/) emit("kfd vram " pid " " KFD_GPU[i] " " v)
	}
	rcline = firstline(DIR "/amdtool.rc")
	split(rcline, a, " ")
	if (AMD_STARTED != "-" && a[2] != AMD_STARTED && UPTIME - AMD_STARTED > 10)
		emit("pending " int(UPTIME - AMD_STARTED))
	if (rcline == "") return
	if (rcline == LAST_SENT["amdtool"]) { emit(MARKER " amdtool same " a[2]); return }
	LAST_SENT["amdtool"] = rcline
	emit(MARKER " amdtool " a[1] " " a[2])
	amd_output(DIR "/amdtool." a[3])
}
function amd_output(f,   line, rest, kind, pid) { # the job's output; its "KIND RC" lines kept
	while ((getline line < f) > 0) {
		rest = substr(line, length(MARKER) + 2)
		if (index(line, MARKER " ") == 1 && rest ~ /^(amd-static|amd-process|amd-metric|rocm-smi) [0-9]+$/) {
			emit(line)
			kind = rest; sub(/ .*/, "", kind)
			# Without KFD, amd-smi process names the GPU processes: their details are read too.
			if (kind == "amd-process") for (pid in TOOL_PID) delete TOOL_PID[pid]
			continue
		}
		emit(body_line(line, ""))
		if (kind == "amd-process" && match(line, /"pid": *[0-9]+/)) {
			pid = substr(line, RSTART, RLENGTH); sub(/.*: */, "", pid); TOOL_PID[pid + 0] = 1
		}
	}
	close(f)
}
function amd_cards(   f, line, a, n) { # DIR/amd.cards and DIR/amd.kfd, written once by the shell
	f = DIR "/amd.cards"
	while ((getline line < f) > 0) {
		split(line, a, "\t")
		NCARD++; CARD[NCARD] = a[1]; CARD_BUS[NCARD] = a[2]; CARD_DEV[NCARD] = a[3]; CARD_HWMON[NCARD] = a[4]
	}
	close(f)
	f = DIR "/amd.kfd"
	while ((getline line < f) > 0) {
		n = split(line, a, " ")
		if (n >= 3) { NKFD++; KFD_LINE[NKFD] = line; KFD_GPU[NKFD] = a[3] }
	}
	close(f)
	AMD_FILE["vendor"] = "vendor"; AMD_FILE["busy"] = "gpu_busy_percent"
	AMD_FILE["mem_busy"] = "mem_busy_percent"; AMD_FILE["vram_used"] = "mem_info_vram_used"
	AMD_FILE["vram_total"] = "mem_info_vram_total"; AMD_FILE["name"] = "product_name"
	HWMON_FILE["temp"] = "temp1_input"; HWMON_FILE["power"] = "power1_average"
	HWMON_FILE["power_input"] = "power1_input"; HWMON_FILE["cap"] = "power1_cap"
	HWMON_FILE["pwm"] = "pwm1"; HWMON_FILE["pwm_max"] = "pwm1_max"
	AMD_STARTED = "-"
}
function containers_changed(f,   line, a, id, part) { # (id, host pid) of running containers
	for (id in CONTAINER_PID) delete CONTAINER_PID[id]
	for (id in CGROUP_PID) delete CGROUP_PID[id]
	part = ""; id = ""
	while ((getline line < f) > 0) {
		if (line == MARKER " logs" || line == MARKER " podman") { part = line; continue }
		if (part == "") {
			split(line, a, " ")
			if (length(a[1]) == 64 && a[2] + 0 > 0) CONTAINER_PID[a[1]] = a[2]
		} else if (part == MARKER " podman") { # podman ps JSON: "Id" comes before "Pid"
			if (line ~ /^    "Id": "[0-9a-f]+",$/ && length(line) == 77) id = substr(line, 12, 64)
			else if (id != "" && match(line, /^    "Pid": [1-9][0-9]*,$/)) {
				CONTAINER_PID[id] = substr(line, 12, RLENGTH - 12); id = ""
			}
		}
	}
	close(f)
}
function read_cgroup_paths(id, pid,   f, line, a) { # container id's cgroups (v1 or v2), via pid
	CGROUP_PID[id] = pid; CGROUP_CPU[id] = ""; CGROUP_MEM[id] = ""; CGROUP_V2[id] = ""
	f = "/proc/" pid "/cgroup"
	while ((getline line < f) > 0) {
		split(line, a, ":")
		if (a[1] == "0" && a[2] == "") CGROUP_V2[id] = a[3]
		else if (a[2] ~ /(^|,)cpuacct(,|$)/) CGROUP_CPU[id] = "/sys/fs/cgroup/" a[2] a[3]
		else if (a[2] ~ /(^|,)memory(,|$)/) CGROUP_MEM[id] = "/sys/fs/cgroup/" a[2] a[3]
	}
	close(f)
}
function container_usage(id, pid,   usage, memory, inactive, cpu, v2) { # prints its "k" line
	# A container's cgroup does not move while its main process lives: read it once.
	if (CGROUP_PID[id] != pid) read_cgroup_paths(id, pid)
	v2 = "/sys/fs/cgroup" CGROUP_V2[id]
	if (CGROUP_CPU[id] == "" && CGROUP_V2[id] != "") {
		usage = keyval(v2 "/cpu.stat", "usage_usec"); if (usage != "") usage = usage * 1000
		memory = firstline(v2 "/memory.current")
		inactive = keyval(v2 "/memory.stat", "inactive_file")
	} else {
		usage = firstline(CGROUP_CPU[id] "/cpuacct.usage")
		memory = firstline(CGROUP_MEM[id] "/memory.usage_in_bytes")
		inactive = keyval(CGROUP_MEM[id] "/memory.stat", "total_inactive_file")
	}
	if (memory != "" && inactive != "" && memory + 0 >= inactive + 0) memory = memory - inactive
	cpu = "-"
	if (usage != "" && (id in PREV_USAGE) && UPTIME > PREV_USAGE_UPTIME[id] && usage + 0 >= PREV_USAGE[id] + 0)
		cpu = sprintf("%.1f", (usage - PREV_USAGE[id]) / ((UPTIME - PREV_USAGE_UPTIME[id]) * 1e7))
	if (usage != "") { PREV_USAGE[id] = usage; PREV_USAGE_UPTIME[id] = UPTIME }
	emit("k " id " " cpu " " (memory == "" ? "-" : memory))
}
function container_of(pid,   f, line, r, id, last, bad, path, paths) { # also sets CGROUP_OF
	f = "/proc/" pid "/cgroup"; r = "-"; last = ""; bad = 0; paths = ""
	while ((getline line < f) > 0) {
		if (r == "-" && match(line, CONTAINER_ID_RE)) r = substr(line, RSTART, 64)
		# The kernel lists hierarchies by decreasing id: a cgroup name with a newline in it
		# (a user's delegated subtree) cannot forge a line without breaking that order.
		id = substr(line, 1, index(line, ":") - 1)
		if (id !~ /^[0-9]+$/ || (last != "" && id + 0 >= last + 0)) bad = 1
		last = id
		if (line !~ ATTRIB_RE && line !~ CONTAINER_ID_RE) continue
		path = line; sub(/^[^:]*:[^:]*:/, "", path); path = clean(path)
		if (length(path) <= 1024 && !index(paths "\t", "\t" path "\t")) paths = paths "\t" path
	}
	close(f)
	CGROUP_OF[pid] = bad ? "" : paths
	return r
}
function user_of(pid,   f, line, a, uid, cmd) { # effective user, like ps
	f = "/proc/" pid "/status"; uid = ""
	while ((getline line < f) > 0) if (index(line, "Uid:") == 1) { split(line, a, " "); uid = a[3]; break }
	close(f)
	if (uid == "") return "?"
	if (!(uid in USER_NAME)) {
		cmd = "getent passwd " uid
		line = ""
		cmd | getline line
		close(cmd)
		split(line, a, ":")
		USER_NAME[uid] = (a[1] != "" ? a[1] : uid)
	}
	return USER_NAME[uid]
}
function capped(s) { # at most ARGS_LIMIT bytes, ending in "..." (one character) when cut
	if (length(s) <= ARGS_LIMIT) return s
	s = substr(s, 1, ARGS_LIMIT - 3)
	sub(/[\300-\377][\200-\277]*$/, "", s)  # never half a UTF-8 character
	return s "\342\200\246"
}
function cmdline_of(pid,   f, line, r) { # the arguments, NULs and control characters as spaces
	f = "/proc/" pid "/cmdline"; r = ""
	# A host user can give a process megabytes of arguments: read no more than is sent.
	while (length(r) <= ARGS_LIMIT && (getline line < f) > 0) {
		gsub(/[^ -~\200-\377]/, " ", line)  # before joining: mawk cuts a string at a NUL
		r = (r == "" ? line : r " " line)
	}
	close(f)
	sub(/ +$/, "", r)
	return capped(r)
}
function mawk_args(list,   cmd, line, p) { # arguments of several processes, under mawk
	# mawk -W interactive cuts a line at a NUL; a second mawk, not interactive, reads NULs (RS)
	# and prints "PID ARGS" per file as cmdline_of joins them: one exec for all new processes
	# (ps cost ~6 ms of CPU a run). AWKBIN is a plain command name or path (from the shell).
	cmd = "exec 2>/dev/null; exec " AWKBIN " -v L=" ARGS_LIMIT " '" ARGS_PROG "'" list
	while ((cmd | getline line) > 0) {
		p = line; sub(/ .*/, "", p)
		sub(/^[0-9]+ ?/, "", line)
		if (p in ARGS) ARGS[p] = capped(clean(line))
	}
	close(cmd)
}
function insert_top(list, n, pid, value,   i, j) { # pid into top-n list, ordered by value[]
	if ((n in list) && value[pid] <= value[list[n]]) return  # the common case: not in the top n
	for (i = 1; i <= n; i++) if (!(i in list) || value[pid] > value[list[i]]) break
	if (i > n) return
	for (j = n; j > i; j--) if ((j - 1) in list) list[j] = list[j - 1]
	list[i] = pid
}
function gpu_pids(   n, i, lines, a, pid) { # GPU_PID: processes in the latest apps sample
	for (pid in GPU_PID) delete GPU_PID[pid]
	n = split(SAMPLE_BODY["apps"], lines, "\n")
	for (i = 1; i < n; i++) {
		split(lines[i], a, ",")
		if (a[3] + 0 > 0) GPU_PID[a[3] + 0] = 1
	}
	for (pid in KFD_PID) GPU_PID[pid + 0] = 1
	for (pid in TOOL_PID) GPU_PID[pid] = 1
}
function cpu_counters(   f, line, a, i) { # prints cpu, btime, ncpu; sets CPU_TOTAL, NCPU
	f = "/proc/stat"; NCPU = 0
	while ((getline line < f) > 0) {
		# Only cpu and btime lines are split: "intr" has a field per interrupt (thousands).
		if (index(line, "cpu ") == 1) {
			split(line, a, " ")
			CPU_TOTAL = 0
			for (i = 2; i <= 9; i++) CPU_TOTAL += a[i]
			emit("cpu " a[2] " " a[3] " " a[4] " " a[5] " " a[6] " " a[7] " " a[8] " " a[9])
		} else if (index(line, "cpu") == 1) NCPU++
		else if (index(line, "btime ") == 1) emit("btime " substr(line, 7))
	}
	close(f)
	emit("ncpu " NCPU)
}
function read_processes(full, first_path,   i, n, pid) { # the /proc entries of this tick
	if (full) {
		# The paths first: read_process parses each stat file as $0 (its fields are split by
		# the awk itself, lazily in gawk: 2-3x cheaper than split() into an array).
		n = split($0, PATHS, " ")
		for (i = first_path; i <= n; i++) read_process(PATHS[i])
	} else {
		# Between full scans (no host screen open) only GPU processes are read again; "keep"
		# tells the client that the other processes keep their rows from the last full scan.
		emit("keep")
		for (pid in GPU_PID) read_process("/proc/" pid)
	}
}
function read_process(path,   f, line, at, pid, t, st, tail) { # its stat, and CPU_SHARE
	f = path "/stat"
	if ((getline line < f) <= 0) { close(f); return }
	close(f)
	pid = substr(path, 7)
	# "pid (comm) state ppid ...": comm may hold spaces and ")", so the fields start after the
	# last ") " (only a comm with ") " in it has two); comm and state are taken only for the
	# processes shown (stat_text).
	at = index(line, ") ")
	$0 = substr(line, at + 2)
	if (index($0, ") ")) { tail = stat_tail(line); at = length(line) - length(tail) - 1; $0 = tail }
	STAT_AT[pid] = at # where the ") " after comm is
	t = $12 + $13; st = $20
	STAT[pid] = line; TICKS[pid] = t; START[pid] = st; RSS[pid] = $22 + 0
	# CPU share since this process was last read (each process keeps its own reference).
	if ((pid in PREV_TICKS) && PREV_START[pid] == st && NCPU > 0 && CPU_TOTAL > PREV_TOTAL[pid])
		CPU_SHARE[pid] = 100 * (t - PREV_TICKS[pid]) / ((CPU_TOTAL - PREV_TOTAL[pid]) / NCPU)
	else if (UPTIME * HZ > st + HZ / 10)  # first sight: its average since it started, as ps shows
		CPU_SHARE[pid] = 100 * t / (UPTIME * HZ - st)
	else CPU_SHARE[pid] = -1
}
function stat_tail(line,   n, a) { # what follows the last ") " of a stat line
	n = split(line, a, ") ")
	return a[n]
}
function comm_of(pid,   line) { # the command name in the stat line read last (between "(" and
	# the last ") ")
	line = STAT[pid]
	return substr(line, length(pid) + 3, STAT_AT[pid] - length(pid) - 3)
}
function state_of(pid) { # the state letter: the first field after the command name
	return substr(STAT[pid], STAT_AT[pid] + 2, 1)
}
function choose_shown(full,   i, pid) { # SHOW: top by CPU, top by memory, and GPU processes
	for (pid in SHOW) delete SHOW[pid]
	if (full) {
		split("", TOP_CPU)
		split("", TOP_MEM)
		for (pid in CPU_SHARE) { insert_top(TOP_CPU, TOP_N, pid, CPU_SHARE); insert_top(TOP_MEM, TOP_N, pid, RSS) }
		for (i = 1; i <= TOP_N; i++) { if (i in TOP_CPU) SHOW[TOP_CPU[i]] = 1; if (i in TOP_MEM) SHOW[TOP_MEM[i]] = 1 }
	}
	for (pid in GPU_PID) if (pid in CPU_SHARE) SHOW[pid] = 1
}
function describe_new(   pid, new_args) { # container, user and arguments: once per process
	new_args = ""
	for (pid in SHOW) if (!((pid in ARGS) && ARGS_START[pid] == START[pid])) {
		# A new process (or a reused PID).
		ARGS[pid] = MAWK ? "" : cmdline_of(pid); ARGS_START[pid] = START[pid]
		CONTAINER_OF[pid] = container_of(pid); USER_OF[pid] = user_of(pid)
		if (MAWK) new_args = new_args " /proc/" pid "/cmdline"
	}
	if (new_args != "") mawk_args(new_args)
}
function print_rows(   pid, pc, args) {
	for (pid in SHOW) {
		pc = CPU_SHARE[pid] >= 0 ? sprintf("%.1f", CPU_SHARE[pid]) : "-"
		# The arguments go over the wire once per process; "=" means "as sent before".
		args = (ARGS_SENT[pid] == START[pid]) ? "=" : ARGS[pid]
		# Its attribution's cgroup paths go with its arguments, once (protocol.md `a`).
		if (args != "=" && CGROUP_OF[pid] != "") emit("a " pid CGROUP_OF[pid])
		ARGS_SENT[pid] = START[pid]
		emit_raw(sprintf("p %s %s %s %s %s %s %s\t%s\t%s\n", pid, pc, RSS[pid], START[pid], state_of(pid), \
			CONTAINER_OF[pid], USER_OF[pid], clean(comm_of(pid)), args))
	}
}
function remember(full,   pid) { # this reading becomes each process's reference
	for (pid in CPU_SHARE) { PREV_TICKS[pid] = TICKS[pid]; PREV_START[pid] = START[pid]; PREV_TOTAL[pid] = CPU_TOTAL }
	# A full scan saw every process: forget those no longer there.
	if (full) for (pid in TICKS) if (!(pid in CPU_SHARE)) forget(pid)
}
function forget(pid) {
	delete TICKS[pid]; delete START[pid]; delete RSS[pid]; delete STAT[pid]; delete STAT_AT[pid]
	delete ARGS[pid]; delete ARGS_START[pid]; delete CONTAINER_OF[pid]; delete USER_OF[pid]
	delete CGROUP_OF[pid]
	delete PREV_TICKS[pid]; delete PREV_START[pid]; delete PREV_TOTAL[pid]; delete ARGS_SENT[pid]
}
function procs(full, first_path,   id) { # the procs section
	emit(MARKER " b procs")
	cpu_counters()
	split("", CPU_SHARE)
	gpu_pids()
	read_processes(full, first_path)
	choose_shown(full)
	describe_new()
	print_rows()
	# Containers' CPU and memory show only on the host screen, which asks for full scans.
	if (full) for (id in CONTAINER_PID) container_usage(id, CONTAINER_PID[id])
	remember(full)
	emit("")
	emit(MARKER " e procs 0 " UPTIME)
}
function meminfo(   f, line) { # only the lines the client reads
	f = "/proc/meminfo"
	while ((getline line < f) > 0)
		if (line ~ /^(MemTotal|MemFree|MemAvailable|Buffers|Cached|SReclaimable|SwapTotal|SwapFree):/) emit(line)
	close(f)
}
function net_section(   n, i, j, d, p, v) { # /proc/net/dev, then each InfiniBand port's counters
	emit(MARKER " b net")
	catfile("/proc/net/dev") # the kernel's lines: interface names are at most 15 bytes
	n = split(IBDIRS, d, " ")
	if (n) emit(MARKER " ib")
	for (i = 1; i <= n; i++) {
		split(d[i], p, "/") # /sys/class/infiniband/DEVICE/ports/PORT/counters
		for (j = 1; j <= IB_N; j++) if ((v = firstline(d[i] "/" IB_FILE[j])) != "") emit(p[5] "/" p[7] " " IB_FILE[j] " " v)
	}
	emit("")
	emit(MARKER " e net 0 " UPTIME)
}
function dio_section(   f, line, a, dm, nfs) { # /proc/diskstats (idle devices left out), dm names, NFS
	emit(MARKER " b dio")
	f = "/proc/diskstats"; dm = ""
	while ((getline line < f) > 0) {
		if (line in DIO_IDLE) continue # an idle device's line (all zero) is split once
		split(line, a, " ")
		if (a[4] + a[8] + a[13] > 0) emit(line); else { DIO_IDLE[line] = 1; continue }
		if (a[3] ~ /^dm-[0-9]+$/ && (line = firstline("/sys/block/" a[3] "/dm/name")) != "") dm = dm a[3] " " clean(line) "\n"
	}
	close(f)
	if (dm != "") emit_raw(MARKER " dm\n" dm)
	if ((nfs = nfs_mounts()) != "") emit_raw(MARKER " nfs\n" nfs)
	emit("")
	emit(MARKER " e dio 0 " UPTIME)
}
function nfs_mounts(   f, line, nfs) { # NFS mounts' byte counters: "device" and "bytes:" lines
	# /proc/self/mountstats costs the kernel a path walk per mount (hundreds on a Kubernetes
	# node): where the last look found no NFS mount, the next is NFSEVERY ticks later (the disks'
	# cadence: df shows a new mount no sooner). With NFS mounts it is read every tick.
	if (!NFS_SEEN && NFSEVERY > 0 && NFS_LOOKED != "" && FRAMES - NFS_LOOKED < NFSEVERY) return ""
	NFS_LOOKED = FRAMES
	f = MOUNTSTATS == "" ? "/proc/self/mountstats" : MOUNTSTATS # (another file in tests)
	nfs = ""; NFS_OPEN = 0
	while ((getline line < f) > 0) {
		if (index(line, "device ") == 1) {
			NFS_OPEN = line ~ /^device .* with fstype nfs4? /
			if (NFS_OPEN) nfs = nfs clean(line) "\n"
		} else if (NFS_OPEN && line ~ /^[ \t]*bytes:/) nfs = nfs line "\n"
	}
	close(f)
	NFS_SEEN = nfs != ""
	return nfs
}
function listening(proto, f,   line, a, r, state) { # listening TCP / unconnected UDP lines of a protocol
	if (f == "") f = "/proc/net/" proto
	r = ""
	state = proto ~ /^tcp/ ? "0A" : "07"
	while ((getline line < f) > 0) {
		# Most sockets are connected: a line without the state (" 0A ") is not split (thousands
		# of connections cost gawk tens of ms a reading).
		if (!index(line, " " state " ")) continue
		split(line, a, " ")
		if (a[4] != state || (state == "07" && a[3] !~ /:0000$/)) continue
		r = r line "\n"
		# Each socket's inode and owner, in the order of its line (ports_section, holders).
		SOCK_INO[++NSOCK] = a[10]; SOCK_UID[NSOCK] = a[8]
	}
	close(f)
	return r
}
function walk_fds(   cmd, line, a, pid, ino) { # HOLDER[inode] = "PID NAME" for every fd the user may read
	for (ino in HOLDER) delete HOLDER[ino]
	for (pid in HOLDER_CG) delete HOLDER_CG[pid]
	DENIED = 0
	cmd = "LC_ALL=C exec ls -l /proc/[0-9]*/fd 2>&1"
	while ((cmd | getline line) > 0) {
		if (line ~ /^\/proc\/[0-9]+\/fd:$/) { split(line, a, "/"); pid = a[3] }
		else if (line ~ /ermission denied/) DENIED++
		else if (match(line, /socket:\[[0-9]+\]$/)) {
			ino = substr(line, RSTART + 8, RLENGTH - 9)
			if (!(ino in HOLDER)) HOLDER[ino] = pid " " clean(firstline("/proc/" pid "/comm"))
		}
	}
	close(cmd)
	LAST_WALK = PORT_TICK
}
function holders(   i, missing, out, ino) { # the holders part, from HOLDER
	for (i = 1; i <= NSOCK; i++) if (!(SOCK_INO[i] in HOLDER) && !(SOCK_INO[i] in LOOKED)) missing = 1
	# A socket not looked for yet: one ls over every fd table, only on a full tick (the host
	# screen is open, or the first tick) and at most every HOLDEREVERY ticks: services that open
	# listeners all the time must not cost an ls each time.
	if (missing && FULL && (LAST_WALK == "" || PORT_TICK - LAST_WALK >= HOLDEREVERY)) {
		walk_fds()
		split("", LOOKED)
		for (i = 1; i <= NSOCK; i++) LOOKED[SOCK_INO[i]] = 1
		missing = 0
	}
	out = "denied " (DENIED + 0) "\n"
	for (i = 1; i <= NSOCK; i++) {
		ino = SOCK_INO[i]
		if (ino in HOLDER) out = out ino " " HOLDER[ino] "\n"
		else if (!(ino in LOOKED)) missing = 1
	}
	return out (missing ? "later 1\n" : "")
}
function holder_cgroup(pid,   had, old) { # HOLDER_CG[pid]; the procs section's CGROUP_OF kept as it was
	had = (pid in CGROUP_OF)
	if (had) old = CGROUP_OF[pid]
	container_of(pid)
	HOLDER_CG[pid] = CGROUP_OF[pid]
	if (had) CGROUP_OF[pid] = old
	else delete CGROUP_OF[pid]
}
function container_sockets(   id, pid, i, rows, out, any, f, line) { # PROTO@ID and fib@ID parts
	out = ""
	for (id in CONTAINER_NS) {
		pid = CONTAINER_NS[id]; any = 0
		for (i = 1; i <= 4; i++) if ((rows = listening(PROTO[i], "/proc/" pid "/net/" PROTO[i])) != "") {
			out = out MARKER " " PROTO[i] "@" id "\n" rows; any = 1
		}
		if (!any) continue
		# Its addresses, so a socket on its wildcard can be reached at the container's IP.
		out = out MARKER " fib@" id "\n"
		f = "/proc/" pid "/net/fib_trie"
		while ((getline line < f) > 0) if (line ~ /(-- [0-9.]+$)|(host LOCAL)/) out = out line "\n"
		close(f)
	}
	return out
}
function ports_section(   i, body, rows, h, seen, done, cg, out, uid, ino) { # listening sockets, holders, users
	body = ""
	NSOCK = 0 # listening() lists each socket's inode and owner: its line is split once
	for (i = 1; i <= 4; i++) if ((rows = listening(PROTO[i])) != "") body = body MARKER " " PROTO[i] "\n" rows
	body = body container_sockets()
	out = body MARKER " holders\n" holders() MARKER " users\n"
	cg = ""
	for (i = 1; i <= NSOCK; i++) {
		uid = SOCK_UID[i]; ino = SOCK_INO[i]
		if (!(uid in seen) && (uid in USER_NAME)) { seen[uid] = 1; out = out uid " " USER_NAME[uid] "\n" }
		if (!(ino in HOLDER)) continue
		# What the socket's holder belongs to: its cgroup paths, read once per fd walk.
		split(HOLDER[ino], h, " ")
		if (!(h[1] in HOLDER_CG)) holder_cgroup(h[1])
		if (!(h[1] in done) && HOLDER_CG[h[1]] != "") { done[h[1]] = 1; cg = cg h[1] HOLDER_CG[h[1]] "\n" }
	}
	out = out MARKER " cgroups\n" cg
	if (out == PORTS_SENT) { emit(MARKER " same ports " UPTIME); return }
	PORTS_SENT = out
	emit(MARKER " b ports")
	emit_raw(out)
	emit("")
	emit(MARKER " e ports 0 " UPTIME)
}
function slurm_section(   started) { # the slurm job's output once it ends, pending till then
	# slurm.started changes only when the shell starts a run, on a tick that woke it: other
	# ticks read nothing once the last run was sent (.rc is read only while a run is not).
	if (!WOKE && SLURM_READ != "" && SLURM_READ == SLURM_SENT) return
	started = SLURM_READ = firstline(DIR "/slurm.started")
	if (started == "" || started == SLURM_SENT) return
	section_file("slurm", "")
	if (JOB_STARTED["slurm"] == started) SLURM_SENT = started
	else pending("slurm", started)
}
function pending(name, started) { # a job started at `started` that has not written its .rc yet
	if (started != "-" && JOB_STARTED[name] != started) emit(MARKER " p " name " " started)
}
BEGIN {
	MARKER = ENVIRON["CT_MARKER"]
	MIG_ON = "-"
	NFR = 0
	# Every sample's entries exist from the start. gawk 5.2 (Debian 12's) frees an array entry
	# never assigned, passed to a function (sample_rows) and then given to split() (gpu_pids),
	# twice: two later strings then share one cell, and a frame line came out as a /proc path.
	split("gpu apps mig", SAMPLER, " ")
	for (i = 1; i <= 3; i++) { SAMPLE_UPTIME[SAMPLER[i]] = ""; SAMPLE_BODY[SAMPLER[i]] = "" }
	LINE_LIMIT = 262144
	# mawk_args' reader: each cmdline's NUL-separated arguments, control characters as spaces,
	# joined by spaces, trailing ones cut, at most ARGS_LIMIT (L) bytes read (as cmdline_of).
	ARGS_PROG = "BEGIN { RS = \"\\0\"; for (i = 1; i < ARGC; i++) { f = ARGV[i]; r = \"\"; n = 0; " \
		"while (length(r) <= L && (getline x < f) > 0) { gsub(/[^ -~\\200-\\377]/, \" \", x); " \
		"r = (n++ ? r \" \" x : x) }; close(f); sub(/ +$/, \"\", r); p = f; sub(/^\\/proc\\//, \"\", p); " \
		"sub(/\\/.*/, \"\", p); print p \" \" r } }"
	CONTAINER_ID_RE = "[0-9a-f]"; for (i = 1; i < 64; i++) CONTAINER_ID_RE = CONTAINER_ID_RE "[0-9a-f]"
	# cgroup paths that may name a Slurm job, a pod, a podman or Docker container, or a session.
	ATTRIB_RE = "slurm|kubepods|libpod|docker|crio|containerd|session-"
	while ((getline line < "/etc/passwd") > 0) { split(line, a, ":"); USER_NAME[a[3]] = a[1] }
	close("/etc/passwd")
	IB_N = split("port_rcv_data port_xmit_data port_rcv_packets port_xmit_packets port_rcv_errors port_xmit_discards", IB_FILE, " ")
	split("tcp tcp6 udp udp6", PROTO, " ")
	if (AMD != 0) amd_cards()
	if (WAKE != "") printf "" > WAKE # the shell waits for this end of the fifo to open
	WOKE = 1 # without WAKE (tests) every tick line is the shell's
	DISKS_STARTED = DOCKER_STARTED = "-"
}
function amd_line(line,   w, n, i, pid) { # "a STARTED [KFD_PROC/PID ...]" from the shell
	# AMD: the slow job's start, then the KFD process folders now
	n = split(line, w, " ")
	AMD_STARTED = w[2]
	for (pid in KFD_PID) delete KFD_PID[pid]
	for (i = 3; i <= n; i++) {
		pid = w[i]; sub(/.*\//, "", pid)
		if (pid ~ /^[0-9]+$/) KFD_PID[pid] = 1
	}
}
function watch_due() { # 1 when a GPU sampler may have ended (no GPU sample yet, none new for 5
	# ticks, nvidia-smi's status in it) or the MIG sampler runs: the shell (gpu_watch, mig_watch)
	# restarts what ended. Samples that keep coming say the samplers run: no wake-up for that.
	return SAMPLE_UPTIME["gpu"] == "" || TICK - GPU_NEW_TICK >= 5 || MIG_ON == "1" ||
		index("\n" SAMPLE_BODY["gpu"], "\n@rc ")
}
function ask_shell(seq, full,   gen, line, t) { # 1 and $0 the shell's tick line when it was due
	TICK++
	# A container event (docker events bumps docker.gen) makes the shell re-read containers.
	gen = firstline(DIR "/docker.gen")
	if (TICK < NEXT_WAKE && full != 1 && gen == DOCKER_GEN && !MIG_CHANGED && !(TICK - ASKED >= 5 && watch_due()))
		return 0
	DOCKER_GEN = gen; MIG_CHANGED = 0; ASKED = TICK
	printf "t %s %s %s\n", seq, full, TICK > WAKE
	fflush(WAKE)
	t = ""
	while ((getline line < REPLY) > 0) {
		if (index(line, "n ") == 1) NEXT_WAKE = substr(line, 3) + 0
		else if (index(line, "a ") == 1) amd_line(line)
		else if (index(line, "t ") == 1) t = line
	}
	close(REPLY)
	if (t == "") exit # the shell is gone
	$0 = t
	return 1
}
$1 == "q" { exit }
$1 == "a" { amd_line($0); next }
# The client's "t SEQ FULL" (protocol.md) when the probe's shell started this awk (WAKE set): the
# shell is woken only when it has work (a job, a full scan, the samplers' watch); otherwise the
# tick line is the last one's with no full scan and the same jobs. Without WAKE (tests), the
# lines are the shell's.
$1 == "t" && WAKE != "" && NF == 3 {
	WOKE = ask_shell($2, $3)
	if (!WOKE) $0 = "t " $2 " " DISKS_STARTED " " DOCKER_STARTED " 0"
}
$1 == "t" {
	# The tick line's fields, kept: a full scan parses each stat file as $0.
	SEQ = $2; DISKS_STARTED = $3; DOCKER_STARTED = $4; FULL = $5 == 1; FRAMES++
	UPTIME = firstline("/proc/uptime"); sub(/ .*/, "", UPTIME)
	emit(MARKER " t " SEQ " " UPTIME)
	emit(MARKER " b sys")
	catfile("/proc/loadavg"); meminfo()
	emit("")
	emit(MARKER " e sys 0 " UPTIME)
	gpu_section()
	section_file("disks", DISKS_STARTED)
	section_file("docker", DOCKER_STARTED)
	procs(FULL, 6)
	net_section()
	dio_section()
	# Reading /proc/net/tcp walks the kernel's whole socket hash: every PORTEVERY ticks while
	# the host screen is open (full ticks), else every PORTIDLE ticks; the first tick always.
	if (PORT_TICK == 0 || PORT_TICK % (FULL ? PORTEVERY : PORTIDLE) == 0) ports_section()
	PORT_TICK++
	pending("disks", DISKS_STARTED)
	pending("docker", DOCKER_STARTED)
	if (SLURM == 1) slurm_section()
	emit(MARKER " d " SEQ)
	frame_out()
}
