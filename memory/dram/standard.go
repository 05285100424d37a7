package dram

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
)

// Standard is one DRAM family (a JEDEC standard): its speed bins and the
// defaults it gives a Config at a data rate. Implementations live one per
// file and register themselves in init; adding one touches no other file.
type Standard interface {
	// Name is the lower-case registry name ("lpddr4x").
	Name() string
	// SpeedBins lists the named data rates in MT/s, ascending. Any rate
	// between the first and the last is accepted; the bins also name the
	// grades ("lpddr4x-4267").
	SpeedBins() []int
	// TransfersPerClock is data transfers per command clock: 2 for
	// DDR4/LPDDR4 (DDR data on CK), 8 for LPDDR5 (WCK = 4 x CK).
	TransfersPerClock() int
	// PerBankRefresh reports whether the standard has REFpb.
	PerBankRefresh() bool
	// DefaultOrg is the organization of one channel of a typical part.
	DefaultOrg() Organization
	// Defaults returns timing, power and controller defaults at rate
	// (MT/s) for the resolved organization org (refresh timing depends on
	// the die density).
	Defaults(rate int, org Organization) Defaults
}

// Defaults is what a Standard contributes to a Config.
type Defaults struct {
	Timing     Timing
	Power      Power
	Controller Controller
	// Source cites where the numbers come from.
	Source string
}

var (
	regMu     sync.RWMutex
	standards = map[string]Standard{}
)

// Register adds a standard to the registry; it panics on a duplicate
// name, which is a programming error caught by the package's init.
func Register(s Standard) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := standards[s.Name()]; dup {
		panic("dram: standard registered twice: " + s.Name())
	}
	standards[s.Name()] = s
}

// Lookup returns the standard with that name, or an error listing the
// known names.
func Lookup(name string) (Standard, error) {
	regMu.RLock()
	s, ok := standards[strings.ToLower(name)]
	regMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownStandard, name, strings.Join(Standards(), ", "))
	}
	return s, nil
}

// Standards returns the registered standard names, sorted.
func Standards() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	names := make([]string, 0, len(standards))
	for n := range standards {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Grades returns every "<standard>-<MT/s>" grade name, sorted by standard
// then rate.
func Grades() []string {
	var g []string
	for _, n := range Standards() {
		s, _ := Lookup(n)
		for _, b := range s.SpeedBins() {
			g = append(g, fmt.Sprintf("%s-%d", n, b))
		}
	}
	return g
}

// SourceOf returns the citation text of a standard's defaults.
func SourceOf(name string) (string, error) {
	s, err := Lookup(name)
	if err != nil {
		return "", err
	}
	return s.Defaults(s.SpeedBins()[0], s.DefaultOrg()).Source, nil
}

// clockPS returns the command clock period at rate MT/s.
func clockPS(rate, transfersPerClock int) int64 {
	return int64(math.Round(1e6 * float64(transfersPerClock) / float64(rate)))
}

// ck rounds a JEDEC minimum given as max(ns, nCK) up to whole clocks, as
// a controller programs it, and returns picoseconds.
func ck(tck int64, ns float64, minCK int) int64 {
	n := int64(math.Ceil(ns*1000/float64(tck) - 1e-9))
	if n < int64(minCK) {
		n = int64(minCK)
	}
	return n * tck
}

// dieGbit is the density of one die (one channel for LPDDR) in Gbit.
func dieGbit(o Organization) float64 {
	return float64(o.Rows) * float64(o.Columns) * float64(o.DeviceWidth) * float64(o.BankGroups*o.BanksPerGroup) / float64(1<<30)
}
