package dram

// LPDDR4X (JEDEC JESD209-4-1) keeps the LPDDR4 core and its timings and
// lowers VDDQ from 1.1 V to 0.6 V, so only the I/O energy changes
// (3.22 pJ/bit x 0.6/1.1 = 1.76 pJ/bit, same drive current assumed).
func init() {
	Register(lpddr4{
		name: "lpddr4x",
		bins: []int{1600, 2133, 2400, 2667, 3200, 3733, 4267},
		vddq: 0.6,
		source: "JEDEC JESD209-4-1 (LPDDR4X: LPDDR4 timings, VDDQ 0.6 V); " + lpddr4Source +
			"; I/O scaled to VDDQ 0.6 V: 1.76 pJ/bit [est]",
	})
}
