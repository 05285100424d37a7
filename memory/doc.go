// Package memory models what lies below the last cache level of an edge
// SoC: LPDDR/DDR DRAM (channels, banks, row buffers, timings, refresh,
// energy), flash storage (UFS, eMMC, NVMe, microSD) and the OS page cache
// that holds model weights which do not all fit in DRAM.
//
// DRAM standards, flash devices and page-cache policies plug in by name.
package memory
