# clustertop probe, sampler side: reads one `nvidia-smi ... -lms` stream and keeps its latest
# sample in DIR/KIND.cur (format: protocol.md), so the per-tick awk never waits for it.
# An awk reads the stream in blocks; a shell `read` loop costs a system call per byte.
# Variables from the shell: KIND ("gpu": a sample is `count` rows, count being every row's first
# field; "apps": rows of one sample share their first field, the timestamp), DIR (temp dir).
# Writing fails once the probe has removed DIR: awk then stops, and nvidia-smi with it (SIGPIPE).
function uptime(   now) {
	now = ""
	if ((getline now < "/proc/uptime") <= 0) now = "0"
	close("/proc/uptime")
	sub(/ .*/, "", now)
	return now
}
function put(text, now,   f) { # now: when the sample came ("": read it here)
	if (now == "") now = uptime()
	f = DIR "/" KIND ".cur"
	printf "%s\n%s@end\n", now, text > f
	close(f)
}
/^@rc / { put(block $0 "\n"); exit }
function carried(   i, out) { # rows of the last whole sample whose GPU and PID have no row yet
	out = ""
	for (i = 1; i <= NP; i++) if (!(PK[i] in SEEN)) out = out PR[i]
	return out
}
KIND == "apps" {
	# A sample's end is unknown until the next one begins (and a sample without processes
	# prints nothing), so each row updates the file. Until this sample has a row for a GPU and
	# PID of the last whole sample, that row is carried over: a frame that reads the file while
	# a sample is half written never loses a process, it may show an ended one a period longer.
	t = $0; sub(/,.*/, "", t)
	if (t != ts) {
		NP = 0
		if (index(block, ",")) {  # rows of data, not an error text
			n = split(block, rows, "\n")
			for (i = 1; i < n; i++) { split(rows[i], f, ","); PK[++NP] = f[2] "," f[3]; PR[NP] = rows[i] "\n" }
		}
		for (k in SEEN) delete SEEN[k]
		block = ""; ts = t
		# A sample's rows come in one write: its first row's uptime serves for all of them.
		stamp = uptime()
	}
	block = block $0 "\n"
	if (index($0, ",")) { split($0, f, ","); SEEN[f[2] "," f[3]] = 1; put(block carried(), stamp) }
	else put(block, stamp)
	next
}
{
	if ($0 ~ /^[0-9]+,/) { c = $0; sub(/,.*/, "", c); count = c + 0 }
	else if (count == 0 && $0 == first && block != "") { put(block); block = ""; n = 0 }
	if (block == "") first = $0
	block = block $0 "\n"
	n++
	if (count > 0 && n >= count) { put(block); block = ""; n = 0 }
}
