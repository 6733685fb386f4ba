"""Device-mapper devices by their /dev/mapper name, NFS mounts' I/O from mountstats: parsed,
rated, carried over SSH and shown in the Disks pane.

This machine's kernel has neither device-mapper nor an NFS client, so no real dm device or NFS
mount can be made here: the mountstats text below has the kernel's layout (the `device` line and
the tab-indented `bytes:` line of fs/nfs/super.c's nfs_show_stats) and the sysfs tree is a
directory laid out as /sys/block is. Everything past the reading is the real code path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clustertop.model import Disk
from clustertop.model.network import DiskCounters, DiskIo, disk_totals
from clustertop.model.nfs import NfsCounters
from clustertop.parsers.mountstats import nfs_rates, parse_mountstats
from clustertop.sources.local.stacked_io import NfsReader, with_mapper_names
from clustertop.sources.ssh.netio import NetioRates
from tests.ui.helpers import cell_text, host, scripted_app, until, wait_rows
from tests.ui.test_netio_panes import _open

MIB = 2**20


def mountstats(read: int, written: int, direct_read: int = 0) -> str:
    return (
        "device rootfs mounted on / with fstype rootfs\n"
        "device /dev/vda1 mounted on /data with fstype ext4\n"
        "\tbytes:\t9 9 9 9 999 999 9 9\n"  # not NFS: never counted
        "device fs1:/export/home mounted on /mnt/my\\040home with fstype nfs4 statvers=1.1\n"
        "\topts:\trw,vers=4.2,rsize=1048576,wsize=1048576\n"
        "\tage:\t86\n"
        f"\tbytes:\t{read} {written} {direct_read} 0 {read * 2} {written} 10 1\n"
        "\tRPC iostats version: 1.1  p/v: 100003/4 (nfs)\n"
        "device fs2:/scratch mounted on /scratch with fstype nfs statvers=1.1\n"
        "\tbytes:\t0 0 0 0 0 0 0 0\n"
    )


def test_mountstats_counts_application_bytes_of_nfs_mounts_only() -> None:
    found = parse_mountstats(mountstats(1000, 2000, direct_read=500))
    assert found == (
        NfsCounters("/mnt/my home", "fs1:/export/home", 1500, 2000),
        NfsCounters("/scratch", "fs2:/scratch", 0, 0),
    )
    with pytest.raises(ValueError, match="/scratch: not a bytes line"):
        parse_mountstats("device a:/b mounted on /scratch with fstype nfs\n\tbytes:\tx y z w\n")


def test_nfs_rates_and_a_remount_gives_no_rate() -> None:
    first = (10.0, parse_mountstats(mountstats(1000, 2000)))
    second = (12.0, parse_mountstats(mountstats(1000 + 4 * MIB, 2000 + 2 * MIB)))
    (home, scratch) = nfs_rates(first, second)
    assert (home.read_rate, home.write_rate) == (2 * MIB, 1 * MIB)
    assert (scratch.read_rate, scratch.write_rate) == (0.0, 0.0)
    remounted = (14.0, parse_mountstats(mountstats(0, 0)))
    home = nfs_rates(second, remounted)[0]
    assert (home.read_rate, home.write_rate) == (None, None)


def test_the_local_reader_rates_a_mountstats_file(tmp_path: Path) -> None:
    path = tmp_path / "mountstats"
    path.write_text(mountstats(1000, 2000))
    reader = NfsReader(str(path))
    rows, problem = reader.read()
    assert problem is None and [r.read_rate for r in rows] == [None, None]
    path.write_text(mountstats(1000 + MIB, 2000))
    rows, _ = reader.read()
    assert rows[0].counters.read_bytes == 1000 + MIB and rows[0].read_rate is not None
    assert rows[0].read_rate > 0 and rows[0].write_rate == 0.0
    assert NfsReader(str(tmp_path / "gone")).read()[1] is not None  # stated, not hidden


def test_dm_devices_get_their_mapper_name_and_stay_out_of_the_totals(tmp_path: Path) -> None:
    (tmp_path / "dm-0" / "dm").mkdir(parents=True)
    (tmp_path / "dm-0" / "dm" / "name").write_text("vg-root\n")
    sda = DiskIo(DiskCounters("sda", 0, 0, 0, 0, 0), 3 * MIB, 1 * MIB, busy_percent=40.0)
    dm = DiskIo(DiskCounters("dm-0", 0, 0, 0, 0, 0), 3 * MIB, 1 * MIB, busy_percent=41.0)
    named = with_mapper_names((sda, dm), str(tmp_path))
    assert [d.mapper for d in named] == [None, "vg-root"]
    assert disk_totals(named) == (3 * MIB, 1 * MIB, 40.0)  # dm-0's I/O is sda's: once


DISKSTATS = (
    "   8       0 sda 100 0 800 10 200 0 1600 20 0 30 30 0 0 0 0\n"
    " 253       0 dm-0 100 0 800 10 200 0 1600 20 0 30 30 0 0 0 0\n"
)


def test_the_probes_dm_and_nfs_parts_reach_the_model() -> None:
    rates = NetioRates()
    parts = {"": DISKSTATS, "dm": "dm-0 vg-root", "nfs": mountstats(1000, 2000)}
    devices = rates.read_dio(parts, 100.0)
    assert {d.name: d.mapper for d in devices} == {"sda": None, "dm-0": "vg-root"}
    assert [m.mount for m in rates.nfs] == ["/mnt/my home", "/scratch"]
    rates.read_dio({**parts, "nfs": mountstats(1000 + 2 * MIB, 2000)}, 102.0)
    assert rates.nfs[0].read_rate == MIB
    rates.read_dio({**parts, "nfs": mountstats(1000, 2000)}, 5.0)  # rebooted
    assert rates.nfs[0].read_rate is None


async def test_disks_pane_shows_dm_io_by_mapper_name_and_nfs_mounts() -> None:
    rates = NetioRates()
    rates.read_dio({"nfs": mountstats(0, 0)}, 10.0)
    rates.read_dio({"nfs": mountstats(4 * MIB, MIB)}, 12.0)
    dm = DiskIo(DiskCounters("dm-0", 0, 0, 0, 0, 0), 5 * MIB, MIB, 10.0, 5.0, 50.0, "vg-root")
    snap = host(
        "a",
        disks=(Disk("/", "/dev/mapper/vg-root", "ext4", 1000, 600, 400),),
        disk_io=(dm,),
        nfs_io=rates.nfs,
    )
    app, _ = scripted_app([snap])
    async with app.run_test(size=(180, 48)) as pilot:
        screen = await _open(app, pilot, "a")
        await pilot.press("5")
        table = screen.current_table
        await until(lambda: table.row_count == 3, "the disk and two NFS mounts")
        assert cell_text(table, "/", "read") == "5.0 MiB/s"
        assert cell_text(table, "/", "busy").endswith("50%")
        assert cell_text(table, "/mnt/my home", "read") == "2.0 MiB/s"
        assert cell_text(table, "/mnt/my home", "write") == "512.0 KiB/s"
        assert cell_text(table, "/mnt/my home", "device") == "fs1:/export/home"
        assert cell_text(table, "/mnt/my home", "iops") == "N/A"
        await wait_rows(table, 3)
