"""Down, hung, wrong-key, unknown-key and changed-key hosts each get their own state, in time."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.fleet.fleet import Fleet
from tests.fleet.simhost import SimHost
from tests.ssh.helpers import run_once

TIMEOUT = 3.0


def test_each_failure_has_its_state_and_the_run_ends_in_time(fleet: Fleet) -> None:
    result = run_once(
        fleet, "h1", "refused", "silent", "h1-wrongkey", "no-such-host.invalid", timeout=TIMEOUT
    )
    assert result.returncode == 0, result.stderr
    assert result.elapsed < TIMEOUT + 5
    assert [h["name"] for h in result.doc["hosts"]] == [
        "h1",
        "refused",
        "silent",
        "h1-wrongkey",
        "no-such-host.invalid",
    ]
    assert result.host("h1")["state"] == "up"
    refused = result.host("refused")
    assert (refused["state"], refused["error"]) == ("unreachable", "connection refused")
    silent = result.host("silent")
    assert silent["state"] == "timeout"
    assert f"{TIMEOUT:g} s" in silent["error"]
    wrong = result.host("h1-wrongkey")
    assert wrong["state"] == "auth-failed"
    assert "Permission denied" in wrong["error"] or "permission denied" in wrong["error"]
    dns = result.host("no-such-host.invalid")
    assert dns["state"] == "unreachable"
    assert dns["error"].startswith("DNS")
    for host in result.doc["hosts"][1:]:
        assert host["gpus"] == [] and host["memory"] is None


def test_changed_host_key_is_refused_with_fingerprint_and_fix(
    fleet: Fleet, spare_host: SimHost
) -> None:
    spare_host.regenerate_host_key()  # known_hosts still holds the old key
    result = run_once(fleet, "spare", timeout=TIMEOUT)
    host = result.host("spare")
    assert host["state"] == "hostkey-failed"
    assert "HOST KEY CHANGED" in host["error"]
    assert "SHA256:" in host["error"]
    assert "ssh-keygen" in host["error"] and "-R" in host["error"]
    assert result.returncode == 0


def _known_hosts_without(fleet: Fleet, host: SimHost, folder: Path) -> Path:
    copy = folder / "known_hosts"
    lines = fleet.known_hosts.read_text().splitlines()
    kept = [line for line in lines if f"[{host.address}]:{host.port}" not in line]
    assert len(kept) < len(lines)
    copy.write_text("\n".join(kept) + "\n")
    return copy


def test_unknown_key_fails_then_accept_new_learns_it_but_never_a_changed_one(
    fleet: Fleet, spare_host: SimHost, tmp_path: Path
) -> None:
    known = _known_hosts_without(fleet, spare_host, tmp_path)
    strict = run_once(fleet, "spare", args=["--known-hosts", str(known)], timeout=TIMEOUT)
    unknown = strict.host("spare")
    assert unknown["state"] == "hostkey-failed"
    assert unknown["error"].startswith("unknown host key")
    assert "--accept-new-hostkeys" in unknown["error"]
    assert f"[{spare_host.address}]:{spare_host.port}" not in known.read_text()

    args = ["--known-hosts", str(known), "--accept-new-hostkeys"]
    learned = run_once(fleet, "spare", args=args, timeout=TIMEOUT)
    assert learned.host("spare")["state"] == "up"
    assert f"[{spare_host.address}]:{spare_host.port} ssh-" in known.read_text()

    before = known.read_text()
    spare_host.regenerate_host_key()
    changed = run_once(fleet, "spare", args=args, timeout=TIMEOUT)
    assert changed.host("spare")["state"] == "hostkey-failed"
    assert "HOST KEY CHANGED" in changed.host("spare")["error"]
    assert known.read_text() == before


def test_proxyjump_through_a_real_jump_host(fleet: Fleet) -> None:
    result = run_once(fleet, "h1-via-jump", "h1")
    via, direct = result.host("h1-via-jump"), result.host("h1")
    assert via["state"] == "up", via["error"]
    assert [g["uuid"] for g in via["gpus"]] == [g["uuid"] for g in direct["gpus"]]


def test_hosts_file_ranges_and_duplicates(fleet: Fleet, tmp_path: Path) -> None:
    hosts_file = tmp_path / "hosts"
    hosts_file.write_text("# lab\nh[1-2]\nh1   # again\n\n")
    result = run_once(fleet, "h2", args=["-H", str(hosts_file)])
    assert [h["name"] for h in result.doc["hosts"]] == ["h2", "h1"]
    assert all(h["state"] == "up" for h in result.doc["hosts"])


def test_usage_error_exits_1(fleet: Fleet) -> None:
    result = run_once(fleet, "bad;host", timeout=TIMEOUT)
    assert result.returncode == 1
    assert "bad;host" in result.stderr
    assert shutil.which("ssh")  # the fleet used the real client for setup
