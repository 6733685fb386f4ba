"""Cold start's per-host work done once: keys handed to asyncssh loaded, ports attributed once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncssh

from clustertop.inventory.hosts import parse_host_spec
from clustertop.sources.ssh.assemble import FrameAssembler, HostInfo
from clustertop.sources.ssh.connect import Options, SshSettings, host_options, loaded_keys
from clustertop.sources.ssh.probe import parse_frame

M = "@ct0123456789abcdef"
ID = "b" * 64


def _options_with_key(tmp_path: Path) -> Options:
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(tmp_path / "id_test")
    key.write_public_key(tmp_path / "id_test.pub")
    config = tmp_path / "ssh_config"
    config.write_text(f"Host node1\n  HostName 127.0.0.1\n  IdentityFile {tmp_path / 'id_test'}\n")
    spec = parse_host_spec("node1")
    return asyncio.run(host_options(spec, SshSettings(config_paths=(config,))))


def test_the_keys_asyncssh_rebuilds_its_options_with_are_the_loaded_ones(tmp_path: Path) -> None:
    options = _options_with_key(tmp_path)
    handed = loaded_keys(options)
    assert handed["client_keys"] is options.client_keys
    # asyncssh.connect rebuilds the options from these: the same key, without reading files.
    (tmp_path / "id_test").unlink()
    (tmp_path / "id_test.pub").unlink()
    rebuilt = Options(options, **handed)  # type: ignore[arg-type]
    assert [k.public_data for k in rebuilt.client_keys] == [
        k.public_data for k in options.client_keys
    ]


def test_no_keys_loaded_leaves_asyncssh_to_decide(tmp_path: Path) -> None:
    options = _options_with_key(tmp_path)
    options.client_keys = []
    assert loaded_keys(options) == {}


def _frame(seq: int, *sections: str) -> str:
    return "\n".join([f"{M} t {seq} {100.0 + seq}", *sections, f"{M} d {seq}"]) + "\n"


def _section(name: str, body: str) -> str:
    return f"{M} b {name}\n{body}\n\n{M} e {name} 0 100.0"


def _docker(name: str) -> str:
    return _section(
        "docker",
        f'{ID} 4242 /var/lib/docker/containers/x.log {{"Id":"{ID}","Name":"/{name}",'
        '"Created":"2024-01-01T00:00:00Z","Config":{"Image":"pytorch","Labels":{}},'
        '"State":{"Status":"running","Running":true,"Pid":4242,"ExitCode":0,'
        '"StartedAt":"2024-01-01T00:00:00Z","FinishedAt":"0001-01-01T00:00:00Z"},'
        '"HostConfig":{"DeviceRequests":null},"LogPath":"/var/lib/docker/containers/x.log"}',
    )


PORTS = _section(
    "ports",
    f"{M} tcp@{ID}\n"
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n"
    "   0: 00000000:22B8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000"
    "        0 424242 1 0000000000000000 100 0 0 10 0\n"
    f"{M} holders\n424242 4242 jupyter\n{M} users\n1000 alice",
)


def test_a_ports_container_name_follows_the_container_between_port_readings() -> None:
    assembler = FrameAssembler("node1", M, HostInfo(hostname="node1"))
    first = assembler.apply(parse_frame(_frame(1, _docker("alice-train"), PORTS), M), 1.0)
    [port] = first.ports
    assert (port.port, port.container, port.process, port.user) == (
        8888,
        "alice-train",
        "jupyter",
        "alice",
    )
    # Frames without a ports section keep the reading, and show it as before.
    again = assembler.apply(parse_frame(_frame(2), M), 1.0)
    assert again.ports == first.ports
    # The container is renamed: its port shows the new name although no ports section came.
    renamed = assembler.apply(parse_frame(_frame(3, _docker("bob-eval")), M), 1.0)
    assert [p.container for p in renamed.ports] == ["bob-eval"]
