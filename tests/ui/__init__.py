"""UI tests: grid, host screen, help, palette, safe rendering, snapshots, demo source."""
