package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgeprof/edgeprof/sim"
)

// socCmd groups the commands on SoC descriptions.
var socCmd = &cobra.Command{
	Use:   "soc",
	Short: "List and show the SoC descriptions the simulator uses",
}

func init() {
	rootCmd.AddCommand(socCmd)
	socCmd.AddCommand(newSocListCmd(), newSocShowCmd())
}

// socListJSON is one line of `soc list --json`.
type socListJSON struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Cores       int             `json:"cores"`
	ClockMHz    int             `json:"clock_mhz"`
	Caches      []socCacheJSON  `json:"caches"`
	DTLB        *socListTLBJSON `json:"dtlb,omitempty"`
	// DRAM is "<grade> <channels>x<bus bits>", e.g. "lpddr4-3200 1x32-bit".
	DRAM               string `json:"dram,omitempty"`
	Flash              string `json:"flash,omitempty"`
	WeightsBudgetBytes int64  `json:"weights_budget_bytes,omitempty"`
}

type socCacheJSON struct {
	Name      string `json:"name"`
	SizeBytes int64  `json:"size_bytes"`
	Ways      int    `json:"ways"`
	LineBytes int64  `json:"line_bytes"`
	SharedBy  int    `json:"shared_by"`
	Instances int    `json:"instances"`
}

type socListTLBJSON struct {
	Entries   int   `json:"entries"`
	PageBytes int64 `json:"page_bytes"`
}

func newSocListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the built-in SoC presets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out []socListJSON
			for _, name := range sim.Presets() {
				s, err := sim.Load(name, nil)
				if err != nil {
					return err
				}
				e := socListJSON{Name: s.Name, Description: s.Description, Cores: s.Cores.Count, ClockMHz: s.Cores.ClockMHz}
				for _, c := range s.Caches {
					e.Caches = append(e.Caches, socCacheJSON{
						Name: c.Name, SizeBytes: int64(c.Size), Ways: c.Ways, LineBytes: int64(c.Line),
						SharedBy: c.SharedBy, Instances: (s.Cores.Count + c.SharedBy - 1) / c.SharedBy,
					})
				}
				if s.DTLB != nil {
					e.DTLB = &socListTLBJSON{Entries: s.DTLB.Entries, PageBytes: int64(s.DTLB.Page)}
				}
				if s.DRAM != nil {
					d := s.DRAM.Config
					name := d.Grade
					if name == "" {
						name = fmt.Sprintf("%s-%d", d.Standard, d.DataRate)
					}
					e.DRAM = fmt.Sprintf("%s %dx%d-bit", name, d.Org.Channels, d.Org.BusWidth)
				}
				if s.Flash != nil {
					e.Flash = s.Flash.Device
				}
				e.WeightsBudgetBytes = int64(s.WeightsBudget)
				out = append(out, e)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			t := newTable(cmd.OutOrStdout(), "name", "cores", "clock", "caches", "dram", "flash", "weights budget")
			for _, e := range out {
				var cs []string
				for _, c := range e.Caches {
					cs = append(cs, fmt.Sprintf("%s %v/%d x%d", c.Name, sim.Size(c.SizeBytes), c.Ways, c.Instances))
				}
				budget := "-"
				if e.WeightsBudgetBytes > 0 {
					budget = sim.Size(e.WeightsBudgetBytes).String()
				}
				t.Append([]string{e.Name, fmt.Sprint(e.Cores), fmt.Sprintf("%d MHz", e.ClockMHz), strings.Join(cs, ", "), e.DRAM, e.Flash, budget})
			}
			return t.Render()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newSocShowCmd() *cobra.Command {
	var (
		asJSON, given bool
		sets          []string
	)
	cmd := &cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Print a SoC description as YAML, every default filled in (--given: as written, to edit)",
		Long: `Prints the SoC as the simulator sees it: every default and every derived
value written out (a cache's energy per access from its size, a DRAM's
timings from its grade). Saved and edited, such a file keeps those derived
values although what they derive from changed; --given prints the
description as the preset or file gives it (with --set applied, comments
kept), so that derived values follow an edit.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("soc show: want one SoC, a preset (%s) or a YAML file; got %d arguments", strings.Join(sim.Presets(), ", "), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if given {
				if asJSON {
					return errors.New("soc show: --given prints YAML as given; leave out --json")
				}
				y, err := sim.GivenYAML(args[0], sets)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(y)
				return err
			}
			s, err := sim.Load(args[0], sets)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), s)
			}
			y, err := s.YAML()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(y)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of YAML")
	cmd.Flags().BoolVar(&given, "given", false, "print only what the preset or file gives (with --set applied), no defaults or derived values: the form to copy and edit")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a value, e.g. --set caches.L2.size=1MiB (repeatable)")
	return cmd
}
