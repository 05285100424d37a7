package main

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/edgeprof/edgeprof/internal/atomicfile"
	"github.com/edgeprof/edgeprof/sim"
)

// writeSimPlot draws time per token against the one swept parameter: one
// line per SoC and trace, the swept values as categories on the x axis in
// the order given. It writes path atomically.
func writeSimPlot(path string, res []*sim.Result) error {
	keys := sweepKeys(res)
	if len(keys) != 1 {
		return fmt.Errorf("sim: --plot needs exactly one --sweep, got %d", len(keys))
	}
	var values []string
	index := map[string]int{}
	type series struct {
		name string
		xys  plotter.XYs
	}
	var lines []*series
	byName := map[string]*series{}
	traces := map[string]bool{}
	for _, r := range res {
		traces[r.Trace] = true
	}
	for _, r := range res {
		if len(r.Sweep) != 1 {
			continue
		}
		v := r.Sweep[0].Value
		if _, ok := index[v]; !ok {
			index[v] = len(values)
			values = append(values, v)
		}
		s := summarize(r)
		if !s.timed {
			return fmt.Errorf("sim: --plot: %s has no timing model (no dram section, or --no-timing)", r.SoC)
		}
		name := r.SoC
		if len(traces) > 1 {
			name = r.SoC + " " + r.Trace
		}
		l := byName[r.SoC+"\x00"+r.Trace]
		if l == nil {
			l = &series{name: name}
			byName[r.SoC+"\x00"+r.Trace] = l
			lines = append(lines, l)
		}
		l.xys = append(l.xys, plotter.XY{X: float64(index[v]), Y: s.plotTokenNS / 1e6})
	}
	p := plot.New()
	p.Title.Text = "time per token vs " + keys[0]
	p.X.Label.Text = keys[0]
	p.Y.Label.Text = "time per token (ms)"
	p.Y.Min = 0
	p.NominalX(values...)
	p.Legend.Top = true
	palette := []color.Color{
		color.RGBA{0x1f, 0x77, 0xb4, 0xff}, color.RGBA{0xd6, 0x27, 0x28, 0xff}, color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
		color.RGBA{0xff, 0x7f, 0x0e, 0xff}, color.RGBA{0x94, 0x67, 0xbd, 0xff}, color.RGBA{0x8c, 0x56, 0x4b, 0xff},
	}
	for i, l := range lines {
		line, points, err := plotter.NewLinePoints(l.xys)
		if err != nil {
			return fmt.Errorf("sim: --plot: %w", err)
		}
		c := palette[i%len(palette)]
		line.Color, points.Color = c, c
		points.Shape = draw.CircleGlyph{}
		p.Add(line, points)
		p.Legend.Add(l.name, line, points)
	}
	wt, err := p.WriterTo(8*vg.Inch, 5*vg.Inch, "png")
	if err != nil {
		return fmt.Errorf("sim: --plot: %w", err)
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return fmt.Errorf("sim: --plot: %w", err)
	}
	defer f.Abort()
	if _, err := wt.WriteTo(f); err != nil {
		return fmt.Errorf("sim: --plot: %w", err)
	}
	return f.Commit()
}
