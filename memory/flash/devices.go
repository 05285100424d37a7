package flash

import (
	"fmt"
	"sort"
	"strings"
)

// Device presets. Each carries its sources; [est] marks values derived
// or assumed where no public figure was found. Link rates are sustained
// sequential read figures (the device's cap), not raw line rates.
// Internal parallelism is chosen large enough that the link and
// MaxIOPS, the published figures, are what limit sequential and random
// reads; tR is chosen so a queue-depth-1 4 KiB read takes about what
// such devices take.
var presets = map[string]Config{
	"microsd-a2": {
		PageBytes: 16 << 10, ReadLatency: 190_000_000,
		Channels: 1, DiesPerChannel: 2, PlanesPerDie: 2,
		ChannelMBps: 200, LinkMBps: 90, MaxIOPS: 4000, QueueDepth: 1,
		EnergyPJPerByte: 5500,
		Source: "UHS-I SDR104 bus 104 MB/s, Pi 5 microSD 85-100 MB/s sequential [2nd]; A2 class >= 4000 random 4 KiB read IOPS " +
			"(SD Association, via admin-magazine.com); queue depth 1 (Linux SD host without command queueing) [est]; " +
			"tR 190 us so QD1 4 KiB reads reach ~4000 IOPS [est]; energy 0.5 W at 90 MB/s [est]",
	},
	"emmc-5.1": {
		PageBytes: 16 << 10, ReadLatency: 150_000_000,
		Channels: 2, DiesPerChannel: 1, PlanesPerDie: 2,
		ChannelMBps: 200, LinkMBps: 300, MaxIOPS: 8000, QueueDepth: 32,
		EnergyPJPerByte: 1300,
		Source: "eMMC 5.1 HS400 (400 MB/s bus): 250-330 MB/s sequential read, 6-10 K random 4 KiB read IOPS [2nd]; " +
			"command queue depth 32 (eMMC 5.1 CMDQ); tR 150 us [est]; energy 0.4 W at 300 MB/s [est]",
	},
	"ufs-3.1": {
		PageBytes: 16 << 10, ReadLatency: 75_000_000,
		Channels: 4, DiesPerChannel: 2, PlanesPerDie: 2,
		ChannelMBps: 800, LinkMBps: 2100, MaxIOPS: 100_000, QueueDepth: 32,
		EnergyPJPerByte: 293,
		Source: "UFS 3.1 ~2.1 GB/s sequential read (facts/soc.md) [2nd]; 100 K random read IOPS (Samsung eUFS 3.1 launch) [2nd]; " +
			"UFS queue depth 32; TLC tR 75 us (MQSim default, OSTEP) ; energy: UFS 4.0's 6.0 MB/s per mA is claimed 46 % better " +
			"than 3.1, so 4.1 MB/s per mA at 1.2 V = 293 pJ/B [est]",
	},
	"ufs-4.0": {
		PageBytes: 16 << 10, ReadLatency: 50_000_000,
		Channels: 4, DiesPerChannel: 4, PlanesPerDie: 2,
		ChannelMBps: 1600, LinkMBps: 4200, MaxIOPS: 200_000, QueueDepth: 32,
		EnergyPJPerByte: 200,
		Source: "Samsung UFS 4.0: 4200 MB/s sequential read, 23.2 Gb/s per lane, 6.0 MB/s per mA (facts/soc.md) [2nd]; " +
			"6.0 MB/s per mA at 1.2 V = 200 pJ/B [est]; 200 K random read IOPS [est]; tR 50 us (newer TLC) [est]",
	},
	"nvme-pcie2x1": {
		PageBytes: 16 << 10, ReadLatency: 60_000_000,
		Channels: 4, DiesPerChannel: 2, PlanesPerDie: 2,
		ChannelMBps: 800, LinkMBps: 450, MaxIOPS: 100_000, QueueDepth: 64,
		EnergyPJPerByte: 5500,
		Source: "Raspberry Pi 5 NVMe over PCIe 2.0 x1 (~500 MB/s bus, bcm2712.dtsi max-link-speed=2, num-lanes=1) [2nd]: 450 MB/s " +
			"sustained [est]; 100 K IOPS (link-bound: 4 KiB x 110 K = 450 MB/s) [est]; NVMe TLC QD1 4 KiB read 50-100 us [2nd]; " +
			"energy 2.5 W at 450 MB/s [est]",
	},
	"nvme-pcie3x4": {
		PageBytes: 16 << 10, ReadLatency: 60_000_000,
		Channels: 8, DiesPerChannel: 4, PlanesPerDie: 4,
		ChannelMBps: 800, LinkMBps: 3500, MaxIOPS: 500_000, QueueDepth: 128,
		EnergyPJPerByte: 1700,
		Source: "PCIe 3.0 x4 NVMe class: 3.5 GB/s sequential read, ~500 K random read IOPS at high queue depth [est from vendor " +
			"datasheets of that class]; NVMe TLC QD1 4 KiB read 50-100 us [2nd]; energy 6 W at 3.5 GB/s [est]",
	},
}

// Lookup returns the preset with that name, or an error listing the
// known names.
func Lookup(name string) (Config, error) {
	c, ok := presets[strings.ToLower(name)]
	if !ok {
		return Config{}, fmt.Errorf("%w: unknown device %q (known: %s)", ErrInvalidConfig, name, strings.Join(Devices(), ", "))
	}
	c.Device = strings.ToLower(name)
	return c, nil
}

// Devices returns the preset names, sorted.
func Devices() []string {
	n := make([]string, 0, len(presets))
	for k := range presets {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
