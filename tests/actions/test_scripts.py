"""Action programs: hostile values never reach a shell, values are quoted, results are parsed."""

from __future__ import annotations

import math
import shlex
import subprocess

import pytest

from clustertop.actions.model import ContainerTarget, Outcome, ProcessTarget, Verb
from clustertop.actions.scripts import action_script, logs_command, parse_result

CID = "0123456789abcdef" * 4
GOOD = ContainerTarget("h1", CID, "alice-train", "ctbox:latest", "running", "alice")
PROC = ProcessTarget("h1", 4242, 1_700_000_000.25, "alice", "python train.py")


def _with(**changes: object) -> ContainerTarget:
    fields = {
        "host": "h1",
        "id": CID,
        "name": "alice-train",
        "image": "i",
        "state": "running",
        "owner": None,
    }
    return ContainerTarget(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "cid",
    [
        CID[:12],  # a prefix could match another container
        CID + "\n",
        CID[:-1] + "A",
        CID[:60] + ";rm",
        "$(reboot)" + CID[9:],
        "",
    ],
)
def test_container_ids_other_than_64_hex_are_refused(cid: str) -> None:
    with pytest.raises(ValueError, match="64-hex"):
        action_script(Verb.STOP, _with(id=cid))
    with pytest.raises(ValueError, match="64-hex"):
        logs_command(_with(id=cid), 10)


@pytest.mark.parametrize("name", ["a;b", "a b", "$(x)", "-rf", "", "a\nb", "a'b"])
def test_names_docker_would_never_give_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="container name"):
        action_script(Verb.KILL, _with(name=name))


@pytest.mark.parametrize("pid", [0, 1, -5, True, 2**22 + 1, "42", 4.0])
def test_pids_that_must_not_be_signalled_are_refused(pid: object) -> None:
    target = ProcessTarget("h1", pid, 1.0e9, None, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="PID"):
        action_script(Verb.TERM, target)


@pytest.mark.parametrize("start", [math.nan, math.inf, -1.0, 0.0, 1e12, "1e9"])
def test_start_times_that_identify_nothing_are_refused(start: object) -> None:
    target = ProcessTarget("h1", 4242, start, None, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="start time"):
        action_script(Verb.SIGKILL, target)


def test_verbs_must_fit_the_target() -> None:
    with pytest.raises(ValueError, match="does not apply to a container"):
        action_script(Verb.TERM, GOOD)
    with pytest.raises(ValueError, match="does not apply to a process"):
        action_script(Verb.STOP, PROC)


def test_docker_host_with_a_newline_is_refused() -> None:
    with pytest.raises(ValueError, match="DOCKER_HOST"):
        action_script(Verb.STOP, GOOD, docker_host="unix:///x\nreboot")


def test_every_value_is_a_quoted_assignment_the_shell_reads_back_exactly() -> None:
    host = "unix:///tmp/it's here/docker.sock"
    script = action_script(Verb.FORCE_REMOVE, GOOD, sudo=True, docker_host=host)
    head = script.split("# clustertop action prelude")[0]
    assert f"DOCKERHOST={shlex.quote(host)}\n" in head
    echo = head + 'printf "%s|%s|%s|%s|%s" "$ACT" "$ID" "$NAME" "$SUDO" "$DOCKERHOST"\n'
    out = subprocess.run(["/bin/sh", "-s"], input=echo, capture_output=True, text=True, check=True)
    assert out.stdout == f"rm-f|{CID}|alice-train|1|{host}"


def test_process_program_carries_pid_start_and_signal() -> None:
    script = action_script(Verb.SIGKILL, PROC)
    assert "PID=4242\nSTART=1700000000.250\nSIG=KILL\n" in script
    assert "sudo -n kill" in script  # only used when SUDO=1
    assert "SUDO=0\n" in script


def test_logs_program_follows_by_full_id_with_timestamps() -> None:
    script = logs_command(GOOD, 50)
    assert f"ID={CID}\nLINES=50\nTS=1\n" in script
    assert "--follow" in script
    with pytest.raises(ValueError, match="line count"):
        logs_command(GOOD, -1)


def test_result_line_is_parsed_and_the_last_one_wins() -> None:
    out = "motd noise\nCTRESULT done container stopped\n"
    result = parse_result(Verb.STOP, GOOD, out)
    assert (result.outcome, result.detail) == (Outcome.DONE, "container stopped")
    changed = parse_result(Verb.TERM, PROC, "CTRESULT done x\nCTRESULT changed PID reused\n")
    assert (changed.outcome, changed.detail) == (Outcome.CHANGED, "PID reused")


def test_unicode_line_separators_in_a_detail_cannot_forge_a_result() -> None:
    out = "CTRESULT failed x\u2028CTRESULT done y\x85CTRESULT done z\n"
    result = parse_result(Verb.STOP, GOOD, out)
    assert result.outcome is Outcome.FAILED


def test_no_result_line_is_a_failure_with_the_hosts_words() -> None:
    result = parse_result(Verb.STOP, GOOD, "", "\nsh: 1: syntax error\nmore\n", 2)
    assert (result.outcome, result.detail) == (Outcome.FAILED, "sh: 1: syntax error")
    silent = parse_result(Verb.STOP, GOOD, "", "", 137)
    assert silent.outcome is Outcome.FAILED
    assert "exit status 137" in silent.detail


def test_unknown_outcome_word_is_a_failure() -> None:
    result = parse_result(Verb.STOP, GOOD, "CTRESULT maybe who knows\n")
    assert result.outcome is Outcome.FAILED
    assert "maybe" in result.detail


def test_long_detail_is_bounded() -> None:
    result = parse_result(Verb.STOP, GOOD, "CTRESULT failed " + "x" * 5000 + "\n")
    assert len(result.detail) == 500
