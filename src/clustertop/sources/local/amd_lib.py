"""Local AMD GPUs through the amdsmi Python library (ROCm's), when it is importable."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from clustertop.parsers.amd_smi import AmdProcess
from clustertop.parsers.amd_values import AmdGpuFacts, amd_bytes, bus_id_of, number_of, percent

_POWER_KEYS = ("current_socket_power", "average_socket_power", "socket_power")


def amdsmi_module() -> Any:
    """The amdsmi module, or None when it is not installed (tests swap in a fake)."""
    try:
        import amdsmi  # type: ignore[import-not-found]  # ships with ROCm, not on PyPI for all
    except ImportError:
        return None
    except Exception:  # noqa: BLE001 - a broken ROCm install raises from its import; no library then
        return None
    return amdsmi


class AmdLibrary:
    """One initialised amdsmi: GPU facts and processes per reading, errors as exceptions."""

    def __init__(self, module: Any) -> None:
        self._lib = module
        self.failure: type[BaseException] = getattr(module, "AmdSmiException", Exception)
        """What the library raises."""
        module.amdsmi_init()

    def close(self) -> None:
        """amdsmi_shut_down, errors ignored (nobody to tell)."""
        with contextlib.suppress(self.failure):
            self._lib.amdsmi_shut_down()

    def read(self) -> tuple[list[AmdGpuFacts], list[AmdProcess]]:
        """Every GPU the library lists, in its order, with its processes."""
        facts: list[AmdGpuFacts] = []
        processes: list[AmdProcess] = []
        for index, handle in enumerate(self._lib.amdsmi_get_processor_handles()):
            try:
                facts.append(self._facts(index, handle))
            except self.failure as exc:
                facts.append(AmdGpuFacts(tool_index=index, error=f"GPU {index}: {exc}"))
                continue
            processes.extend(self._processes(index, handle))
        return facts, processes

    def _get(self, name: str, *args: Any) -> Any:
        """A call's answer, None when this library or GPU lacks it."""
        call: Callable[..., Any] | None = getattr(self._lib, name, None)
        if call is None:
            return None
        try:
            return call(*args)
        except self.failure:
            return None

    def _facts(self, index: int, handle: Any) -> AmdGpuFacts:
        # The bus ID is the GPU's identity: failing to read it fails the GPU.
        bdf = self._lib.amdsmi_get_gpu_device_bdf(handle)
        activity = self._get("amdsmi_get_gpu_activity", handle) or {}
        vram = self._get("amdsmi_get_gpu_vram_usage", handle) or {}
        power = self._get("amdsmi_get_power_info", handle) or {}
        cap = self._get("amdsmi_get_power_cap_info", handle) or {}
        asic = self._get("amdsmi_get_gpu_asic_info", handle) or {}
        name = asic.get("market_name") if isinstance(asic, dict) else None
        socket = next((v for k in _POWER_KEYS if (v := number_of(power.get(k))) is not None), None)
        cap_uw = number_of(cap.get("power_cap"))
        return AmdGpuFacts(
            tool_index=index,
            bus_id=bus_id_of(bdf),
            name=name if isinstance(name, str) and name.strip() else None,
            util_percent=percent(number_of(activity.get("gfx_activity"))),
            memory_util_percent=percent(number_of(activity.get("umc_activity"))),
            # amdsmi_get_gpu_vram_usage answers in MB (binary, as the CLI prints it).
            memory_used=amd_bytes(vram.get("vram_used"), "MB"),
            memory_total=amd_bytes(vram.get("vram_total"), "MB"),
            temperature_c=self._temperature(handle),
            power_w=socket,
            # amdsmi_get_power_cap_info answers in microwatts.
            power_limit_w=None if cap_uw is None else cap_uw / 1e6,
        )

    def _temperature(self, handle: Any) -> float | None:
        kinds = getattr(self._lib, "AmdSmiTemperatureType", None)
        metric = getattr(self._lib, "AmdSmiTemperatureMetric", None)
        if kinds is None or metric is None:
            return None
        for kind in ("EDGE", "HOTSPOT"):
            value = number_of(
                self._get("amdsmi_get_temp_metric", handle, getattr(kinds, kind), metric.CURRENT)
            )
            if value is not None:
                return value
        return None

    def _processes(self, index: int, handle: Any) -> list[AmdProcess]:
        listed = self._get("amdsmi_get_gpu_process_list", handle) or []
        rows = []
        for item in listed:
            # ROCm >= 6 lists dicts; older libraries list handles to ask about.
            info = (
                item
                if isinstance(item, dict)
                else self._get("amdsmi_get_gpu_process_info", handle, item)
            )
            pid = number_of(info.get("pid")) if isinstance(info, dict) else None
            if not isinstance(info, dict) or pid is None or pid <= 0:
                continue
            usage = info.get("memory_usage")
            vram = amd_bytes(usage.get("vram_mem")) if isinstance(usage, dict) else None
            name = info.get("name")
            rows.append(AmdProcess(index, int(pid), name if isinstance(name, str) else "", vram))
        return rows
