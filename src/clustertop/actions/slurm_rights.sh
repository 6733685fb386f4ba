# clustertop: may the acting user scancel here (POSIX sh)? Parameter set by the client: SUDO.
# Ends with exit: stdin stays open (read_only_stream), so sh would wait for more.
# SUDO=1: the actions run scancel through `sudo -n`, so they act as root. sacctmgr's "not running
# a supported accounting_storage plugin" means no accounting database, hence no operators (only
# root and SlurmUser, read from scontrol); any other failure leaves the level unknown ('?').
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LC_ALL=C
export PATH LC_ALL
uid=$(id -u 2>/dev/null) || uid='?'
user=$(id -un 2>/dev/null) || user='?'
if [ "$SUDO" = 1 ] && command -v sudo >/dev/null 2>&1; then uid=0 user=root; fi
sc=0
command -v scancel >/dev/null 2>&1 && sc=1
bound() { if command -v timeout >/dev/null 2>&1; then timeout 5 "$@"; else "$@"; fi; }
level='?'
if [ "$uid" != 0 ] && [ "$sc" = 1 ]; then
	slurmuser=$(bound scontrol show config 2>/dev/null | awk '$1 == "SlurmUser" { sub(/\(.*/, "", $3); print $3; exit }')
	if [ -n "$slurmuser" ] && [ "$slurmuser" = "$user" ]; then
		level=Administrator
	elif command -v sacctmgr >/dev/null 2>&1; then
		out=$(bound sacctmgr -nP show user "$user" format=adminlevel </dev/null 2>&1) && level=$(echo "$out" | awk 'NF { print $1; exit }')
		case $out in *"not running a supported accounting_storage plugin"*) level=None ;; esac
		[ -n "$level" ] || level=None
	fi
fi
printf 'CTRIGHTS %s %s %s %s\n' "$uid" "$sc" "$level" "$user"
exit 0
