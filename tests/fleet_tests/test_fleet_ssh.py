"""The fleet seen through the real OpenSSH client: logins, environment, GPUs, failures."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fleet import gpu_specs
from tests.fleet.fleet import REFUSED, SILENT, Fleet
from tests.fleet.simhost import SimHost

GPU_QUERY = "nvidia-smi --query-gpu=index,uuid,memory.used --format=csv,noheader,nounits"


def test_root_login_and_setenv_reach_the_session(fleet: Fleet) -> None:
    h1 = fleet["h1"]
    out = h1.ssh(
        'printf "%s\\n" "$PATH" "$DOCKER_HOST" "$CT_HOST" "$(id -un)" "$(command -v nvidia-smi)"'
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        f"{h1.bin_dir}:{fleet.files.sysbin}",  # explicit: never the tester's own PATH
        h1.docker.host if h1.docker else "",
        "h1",
        "root",
        str(h1.bin_dir / "nvidia-smi"),
    ]


def test_each_host_sees_its_own_engine(fleet: Fleet) -> None:
    for name in ("h1", "h2", "h3"):
        host = fleet[name]
        assert host.docker is not None
        out = host.ssh("docker info --format '{{.DockerRootDir}}'")
        assert out.stdout.strip() == str(host.docker.root / "data"), out.stderr


def test_nvidia_smi_over_ssh_prints_the_spec(fleet: Fleet) -> None:
    out = fleet["h1"].ssh(GPU_QUERY)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        f"0, {gpu_specs.gpu_uuid('h1', 0)}, 0",
        f"1, {gpu_specs.gpu_uuid('h1', 1)}, 0",
    ]
    names = {
        n: fleet[n].ssh("nvidia-smi --query-gpu=name --format=csv,noheader").stdout
        for n in ("h2", "h3")
    }
    assert names == {"h2": "NVIDIA L40S\n", "h3": "NVIDIA GeForce RTX 4080 SUPER\n"}


def test_container_process_is_a_gpu_process_with_its_host_pid(
    clean_fleet: Fleet, container_name: Callable[[str], str]
) -> None:
    h2 = clean_fleet["h2"]
    assert h2.docker is not None
    name = container_name("alice")
    h2.docker.run_container(name, "sleep", "600")
    spec = h2.default_gpu_spec()
    spec["processes"] = [{"gpu": 0, "container": name, "used_memory_mib": 4000}]
    h2.set_gpu_spec(spec)
    out = h2.ssh(
        "nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv,noheader,nounits"
    )
    pid = h2.docker.container_pid(name)
    assert out.stdout == f"{pid}, sleep, 4000\n", out.stderr
    cgroup = h2.ssh(f"cat /proc/{pid}/cgroup").stdout
    assert (
        f"/docker/{h2.docker.cli('inspect', '--format', '{{.Id}}', name).stdout.strip()}" in cgroup
    )


@pytest.mark.parametrize(
    ("mode", "status", "text"),
    [
        (
            "no-driver",
            9,
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
        ),
        ("mismatch", 18, "Failed to initialize NVML: Driver/library version mismatch"),
        (
            "lost-gpu",
            15,
            "Unable to determine the device handle for GPU0000:18:00.0: Unknown Error",
        ),
    ],
)
def test_failure_modes_pass_through_ssh(
    clean_fleet: Fleet, mode: str, status: int, text: str
) -> None:
    h1 = clean_fleet["h1"]
    h1.set_gpu_spec({**h1.default_gpu_spec(), "mode": mode})
    out = h1.ssh(GPU_QUERY)
    assert out.returncode == status
    assert out.stdout.splitlines()[0].startswith(text)


def test_hung_nvidia_smi_is_bounded_by_timeout(clean_fleet: Fleet) -> None:
    h3 = clean_fleet["h3"]
    h3.set_gpu_spec({**h3.default_gpu_spec(), "mode": "hang"})
    out = h3.ssh(f"timeout 1 {GPU_QUERY}")
    assert (out.returncode, out.stdout) == (124, "")


def test_non_root_user_gets_docker_permission_denied(fleet: Fleet) -> None:
    out = fleet["h1"].ssh("id -un; docker ps", alias="h1-ctuser")
    assert out.stdout == "ctuser\n"
    assert out.returncode == 1
    assert "permission denied while trying to connect to the Docker daemon socket" in out.stderr


def test_non_root_user_still_runs_nvidia_smi(fleet: Fleet) -> None:
    out = fleet["h1"].ssh("nvidia-smi -L", user="ctuser")
    assert out.stdout.startswith("GPU 0: NVIDIA H200 (UUID: GPU-"), out.stderr


def test_proxyjump_reaches_the_host_through_jump(fleet: Fleet) -> None:
    out = fleet["h1"].ssh("echo $CT_HOST", alias="h1-via-jump")
    assert (out.returncode, out.stdout) == (0, "h1\n"), out.stderr


def test_jump_host_has_no_docker_and_no_gpus(fleet: Fleet) -> None:
    assert fleet.jump is not None
    out = fleet.jump.ssh("command -v docker; command -v nvidia-smi; command -v sh")
    assert out.stdout.strip().endswith("/sh")
    assert out.stdout.count("\n") == 1


def test_wrong_key_refused_address_and_silent_port(fleet: Fleet) -> None:
    h1 = fleet["h1"]
    wrong = h1.ssh("true", alias="h1-wrongkey")
    assert (wrong.returncode, "Permission denied (publickey)" in wrong.stderr) == (255, True)
    refused = h1.ssh("true", alias=REFUSED)
    assert (refused.returncode, "Connection refused" in refused.stderr) == (255, True)
    silent = h1.ssh("true", alias=SILENT, options=["ConnectTimeout=1"])
    assert silent.returncode == 255
    assert "timed out" in silent.stderr


def test_stopped_host_refuses_then_returns_with_same_key(spare_host: SimHost) -> None:
    assert spare_host.ssh("echo up").stdout == "up\n"
    spare_host.stop_sshd()
    down = spare_host.ssh("echo up")
    assert (down.returncode, "Connection refused" in down.stderr) == (255, True)
    spare_host.start_sshd()
    assert spare_host.ssh("echo up").stdout == "up\n"


def test_stopping_sshd_ends_open_sessions(spare_host: SimHost) -> None:
    import subprocess

    argv = spare_host.ssh_argv("echo started; sleep 600")
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as session:
        assert session.stdout is not None
        assert session.stdout.readline() == "started\n"
        spare_host.stop_sshd()
        assert session.wait(timeout=10) == 255


def test_changed_host_key_is_refused_until_trusted(fleet: Fleet, spare_host: SimHost) -> None:
    spare_host.regenerate_host_key()
    out = spare_host.ssh("true")
    assert out.returncode == 255
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in out.stderr
    fleet.trust_host_key(spare_host.name)
    assert spare_host.ssh("echo ok").stdout == "ok\n"


def test_docker_without_daemon_says_so(spare_host: SimHost) -> None:
    out = spare_host.ssh("docker ps")
    assert out.returncode == 1
    assert "Cannot connect to the Docker daemon" in out.stderr


def test_asyncssh_connects_with_the_fleet_config(fleet: Fleet) -> None:
    import asyncio

    import asyncssh

    async def run() -> str:
        async with asyncssh.connect("h2", config=[str(fleet.ssh_config)]) as conn:
            result = await conn.run("echo $CT_HOST", check=True)
            return str(result.stdout)

    assert asyncio.run(run()) == "h2\n"
