"""The local source: this machine through psutil, NVML and the docker SDK."""
