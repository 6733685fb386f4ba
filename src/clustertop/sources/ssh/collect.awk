# clustertop probe, sampler side: reads one `nvidia-smi ... -lms` stream and keeps its latest
# sample in D/K.cur ("UPTIME" line, the rows, "@end"), so the per-tick awk never waits for it.
# An awk reads the stream in blocks; a shell `read` loop costs a system call per byte.
# Variables from the shell: K ("gpu": a sample is `count` rows, count being every row's first
# field; "apps": rows of one sample share their first field, the timestamp), D (temp dir).
# Writing fails once the probe has removed D: awk then stops, and nvidia-smi with it (SIGPIPE).
function put(text,   now, f) {
	now = ""
	if ((getline now < "/proc/uptime") <= 0) now = "0"
	close("/proc/uptime")
	sub(/ .*/, "", now)
	f = D "/" K ".cur"
	printf "%s\n%s@end\n", now, text > f
	close(f)
}
/^@rc / { put(block $0 "\n"); exit }
K == "apps" {
	t = $0; sub(/,.*/, "", t)
	if (t != ts) { block = ""; ts = t }
	block = block $0 "\n"
	put(block)  # a sample's end is unknown until the next one: each row updates it
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
