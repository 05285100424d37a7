package dram

// LPDDR5X (JEDEC JESD209-5B/5C) extends LPDDR5 to 8533-10667 MT/s with
// the same core timings in nanoseconds and the same bank-group mode.
func init() {
	Register(lpddr5{
		name: "lpddr5x",
		bins: []int{6400, 7500, 8533, 9600, 10667},
		source: "JESD209-5B/5C (LPDDR5X rates, LPDDR5 core timings); " + lpddr5Source +
			"; LPDDR5X core energy x 0.8 of LPDDR5 (Samsung: approximately 20 % less power than LPDDR5) [est]",
		power: 0.56,
	})
}
