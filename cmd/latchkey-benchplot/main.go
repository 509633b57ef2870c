// Command latchkey-benchplot renders the charts of BENCHMARKS.md as PNG:
// throughput and latency by scenario from latchkey-load's -json output,
// and the growth curves from a small JSON file of benchmark medians.
//
//	latchkey-benchplot -load /tmp/load.json -growth docs/bench/growth.json -out docs/bench
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// loadReport is the part of latchkey-load's -json output that is drawn.
type loadReport struct {
	Concurrency int `json:"concurrency"`
	Results     []struct {
		Scenario string  `json:"scenario"`
		RPS      float64 `json:"rps"`
		P50      float64 `json:"p50_ms"`
		P90      float64 `json:"p90_ms"`
		P99      float64 `json:"p99_ms"`
	} `json:"results"`
}

// growthReport holds benchmark medians (ns/op) by size, one series each.
type growthReport struct {
	Series []struct {
		Name  string `json:"name"`
		Sizes []int  `json:"sizes"`
		NsOp  []int  `json:"ns_op"`
	} `json:"series"`
}

func main() {
	load := flag.String("load", "", "latchkey-load -json output")
	growth := flag.String("growth", "", "growth medians (JSON)")
	out := flag.String("out", "docs/bench", "output directory")
	flag.Parse()
	if err := run(*load, *growth, *out); err != nil {
		fmt.Fprintln(os.Stderr, "latchkey-benchplot:", err)
		os.Exit(1)
	}
}

func run(loadPath, growthPath, out string) error {
	if loadPath == "" && growthPath == "" {
		return fmt.Errorf("nothing to draw: give -load and/or -growth")
	}
	if loadPath != "" {
		var r loadReport
		if err := readJSON(loadPath, &r); err != nil {
			return err
		}
		if err := throughput(r, filepath.Join(out, "throughput.png")); err != nil {
			return err
		}
		if err := latency(r, filepath.Join(out, "latency.png")); err != nil {
			return err
		}
	}
	if growthPath != "" {
		var g growthReport
		if err := readJSON(growthPath, &g); err != nil {
			return err
		}
		if err := growthChart(g, filepath.Join(out, "growth.png")); err != nil {
			return err
		}
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func throughput(r loadReport, path string) error {
	if len(r.Results) == 0 {
		return fmt.Errorf("load report has no results")
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Throughput by scenario (-c %d)", r.Concurrency)
	p.Y.Label.Text = "requests/s"
	vals := make(plotter.Values, len(r.Results))
	names := make([]string, len(r.Results))
	for i, s := range r.Results {
		vals[i], names[i] = s.RPS, s.Scenario
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(28))
	if err != nil {
		return err
	}
	bars.Color = plotutil.Color(0)
	bars.LineStyle.Width = 0
	p.Add(bars)
	if err := addLabels(p, vals, 0, "%.0f"); err != nil {
		return err
	}
	p.Y.Max *= 1.1
	p.NominalX(names...)
	return p.Save(7*vg.Inch, 4*vg.Inch, path)
}

// addLabels writes each value above its bar, shifted by dx bars.
func addLabels(p *plot.Plot, vals plotter.Values, dx float64, format string) error {
	xys := make(plotter.XYs, len(vals))
	text := make([]string, len(vals))
	for i, v := range vals {
		xys[i].X, xys[i].Y = float64(i)+dx, v
		text[i] = fmt.Sprintf(format, v)
	}
	labels, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: text})
	if err != nil {
		return err
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].XAlign = -0.5
		labels.TextStyle[i].YAlign = 0
		labels.TextStyle[i].Font.Size = vg.Points(8)
	}
	p.Add(labels)
	return nil
}

func latency(r loadReport, path string) error {
	if len(r.Results) == 0 {
		return fmt.Errorf("load report has no results")
	}
	p := plot.New()
	p.Title.Text = "Latency by scenario (p50, p90, p99)"
	p.Y.Label.Text = "milliseconds"
	names := make([]string, len(r.Results))
	var p50, p90, p99 plotter.Values
	for i, s := range r.Results {
		names[i] = s.Scenario
		p50, p90, p99 = append(p50, s.P50), append(p90, s.P90), append(p99, s.P99)
	}
	w := vg.Points(14)
	for i, v := range []struct {
		name string
		vals plotter.Values
	}{{"p50", p50}, {"p90", p90}, {"p99", p99}} {
		bars, err := plotter.NewBarChart(v.vals, w)
		if err != nil {
			return err
		}
		bars.Color = plotutil.Color(i)
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(i-1) * w
		p.Add(bars)
		p.Legend.Add(v.name, bars)
	}
	// p99 above each group: sign-in dwarfs the others on a linear axis.
	if err := addLabels(p, p99, 0.3, "%.1f"); err != nil {
		return err
	}
	p.Y.Max *= 1.1
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(40)
	p.NominalX(names...)
	return p.Save(7*vg.Inch, 4*vg.Inch, path)
}

func growthChart(g growthReport, path string) error {
	if len(g.Series) == 0 {
		return fmt.Errorf("growth report has no series")
	}
	p := plot.New()
	p.Title.Text = "Growth: median time per query by table size"
	p.X.Label.Text = "rows (log scale)"
	p.Y.Label.Text = "µs/op"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min = 0
	for i, s := range g.Series {
		if len(s.Sizes) != len(s.NsOp) || len(s.Sizes) == 0 {
			return fmt.Errorf("series %q: %d sizes, %d values", s.Name, len(s.Sizes), len(s.NsOp))
		}
		pts := make(plotter.XYs, len(s.Sizes))
		for j := range s.Sizes {
			if s.Sizes[j] <= 0 {
				return fmt.Errorf("series %q: size %d not positive", s.Name, s.Sizes[j])
			}
			pts[j].X, pts[j].Y = float64(s.Sizes[j]), float64(s.NsOp[j])/1000
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		line.Color = plotutil.Color(i)
		points.Color = plotutil.Color(i)
		points.Shape = plotutil.Shape(i)
		p.Add(line, points)
		p.Legend.Add(s.Name, line, points)
	}
	p.Y.Max *= 1.3 // room for the legend above the lines
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(20)
	p.Add(plotter.NewGrid())
	return p.Save(7*vg.Inch, 4*vg.Inch, path)
}
