package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The cost of each style, drawn from the make bench reports kept in
// docs/bench/styles/<style>.json (BENCH_STYLE=<style> BENCH_OUT=... make
// bench, then its bench.json copied there): p99 latency and CPU per trip
// against the offered rate, a line per style. The chart is
// docs/bench/styles.svg, which the README shows.
const stylesDir = "../docs/bench/styles"

// TestStyleChartIsDrawnFromTheReports redraws the chart and the README's
// cost table from the reports, and fails when docs/bench/styles.svg or the
// table differs, so that the figures in the README are the ones the kept
// reports give; STYLE_CHART_WRITE=1 writes both.
func TestStyleChartIsDrawnFromTheReports(t *testing.T) {
	reports := map[string]benchReport{}
	for _, style := range []string{styleChoreography, styleOrchestration, styleWorkflow} {
		raw, err := os.ReadFile(filepath.Join(stylesDir, style+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var r benchReport
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("%s.json: %v", style, err)
		}
		if got := r.Settings.Style; got != style || len(r.Steps) == 0 {
			t.Fatalf("%s.json is a report of style %q with %d steps; want a make bench report of %s", style, got, len(r.Steps), style)
		}
		reports[style] = r
	}
	svg := styleChart(reports)
	path := filepath.Join(stylesDir, "..", "styles.svg")
	if os.Getenv("STYLE_CHART_WRITE") == "1" {
		if err := os.WriteFile(path, []byte(svg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kept, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(kept) != svg {
		t.Errorf("%s is not drawn from the reports in %s; redraw it: cd test && STYLE_CHART_WRITE=1 go test -run TestStyleChartIsDrawnFromTheReports", path, stylesDir)
	}
	readme := filepath.Join("..", "README.md")
	text, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	i, j := strings.Index(string(text), styleCostStart), strings.Index(string(text), styleCostEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no cost table: no %q line followed by %q", styleCostStart, styleCostEnd)
	}
	table := styleCostStart + "\n" + styleCostTable(reports)
	if os.Getenv("STYLE_CHART_WRITE") == "1" {
		text = []byte(string(text[:i]) + table + string(text[j:]))
		if err := os.WriteFile(readme, text, 0o644); err != nil {
			t.Fatal(err)
		}
		j = i + len(table)
	}
	if got := string(text[i:j]); got != table {
		t.Errorf("the README's cost table is not the one the reports in %s give; write it: cd test && STYLE_CHART_WRITE=1 go test -run TestStyleChartIsDrawnFromTheReports\nwant:\n%s\ngot:\n%s", stylesDir, table, got)
	}
	for _, style := range []string{styleChoreography, styleOrchestration, styleWorkflow} {
		if n := strings.Count(svg, `data-series="`+style+`"`); n != 2 {
			t.Errorf("the chart has %d lines of %s, want two (latency and CPU)", n, style)
		}
	}
}

// The README's cost table lies between these two lines.
const (
	styleCostStart = "<!-- style cost table: written from docs/bench/styles by TestStyleChartIsDrawnFromTheReports -->"
	styleCostEnd   = "<!-- end of style cost table -->"
)

// styleCostTable is the README's cost table: per style, latency and CPU per
// trip at 50 and 100 trips/s, what became of 150 trips/s offered, and the
// highest rate held.
func styleCostTable(reports map[string]benchReport) string {
	var b strings.Builder
	b.WriteString("| style | 50 trips/s: p50 / p99, CPU per trip | 100 trips/s: p50 / p99, CPU per trip | 150 trips/s offered: completed, p50 / p99 | highest rate held (p99 ≤ 1 s) |\n")
	b.WriteString("| --- | --- | --- | --- | ---: |\n")
	names := map[string]string{styleChoreography: "choreography", styleOrchestration: "naive orchestration", styleWorkflow: "workflow"}
	for _, style := range []string{styleChoreography, styleOrchestration, styleWorkflow} {
		r := reports[style]
		step := func(rate int) (stepResult, bool) {
			for _, s := range r.Steps {
				if s.Rate == rate {
					return s, true
				}
			}
			return stepResult{}, false
		}
		row := []string{names[style]}
		for _, rate := range []int{50, 100} {
			if s, ok := step(rate); ok {
				row = append(row, fmt.Sprintf("%s, %.1f ms", latencyPair(s.P50Ms, s.P99Ms), s.CPUMsPerTrip["all"]))
			} else {
				row = append(row, "not measured")
			}
		}
		if s, ok := step(150); ok {
			cell := fmt.Sprintf("%.1f/s", s.CompletedPerS)
			if s.OfferedPerS < 0.99*float64(s.Rate) {
				cell += fmt.Sprintf(" (%.1f sent)", s.OfferedPerS)
			}
			row = append(row, cell+", "+latencyPair(s.P50Ms, s.P99Ms))
		} else {
			row = append(row, "not measured")
		}
		row = append(row, fmt.Sprintf("%d/s", r.Held))
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	return b.String()
}

// latencyPair writes p50 and p99 in the unit of the larger: "10 / 22 ms",
// "1.56 / 2.47 s".
func latencyPair(p50, p99 float64) string {
	if p99 >= 1000 {
		return fmt.Sprintf("%.2f / %.2f s", p50/1000, p99/1000)
	}
	return fmt.Sprintf("%.0f / %.0f ms", p50, p99)
}

// styleChart draws p99 latency (log scale) and CPU per trip against the
// offered rate, a line per style.
func styleChart(reports map[string]benchReport) string {
	styles := []string{styleChoreography, styleOrchestration, styleWorkflow}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartW, chartH)
	first := reports[styleChoreography]
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" text-anchor="middle">make bench in each style, %s</text>`+"\n", chartW/2, xmlEscape(first.Date[:10]))
	fmt.Fprintf(&b, `<text x="%d" y="42" text-anchor="middle" fill="#555">%s; %d drivers; tracing %s</text>`+"\n", chartW/2, xmlEscape(first.Machine), first.Settings.Pool, first.Settings.Tracing)

	maxRate, top, maxCPU := 1.0, 100.0, 1.0
	for _, r := range reports {
		for _, s := range r.Steps {
			maxRate = max(maxRate, float64(s.Rate))
			for top < s.P99Ms {
				top *= 10
			}
			maxCPU = max(maxCPU, s.CPUMsPerTrip["all"])
		}
	}
	maxRate, maxCPU = niceCeil(maxRate), niceCeil(maxCPU)
	x := func(left int, rate float64) float64 { return float64(left) + rate/maxRate*panelW }
	yLat := func(ms float64) float64 { return panelTop + panelH - math.Log10(max(ms, 1))/math.Log10(top)*panelH }
	yCPU := func(ms float64) float64 { return panelTop + panelH - ms/maxCPU*panelH }

	axes(&b, leftPanel, "offered trips/s", "p99 order → driver notification (log)", maxRate)
	for v := 1.0; v <= top; v *= 10 {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n",
			leftPanel, yLat(v), leftPanel+panelW, yLat(v), leftPanel-6, yLat(v)+4, latency(v))
	}
	axes(&b, rightPane, "offered trips/s", "CPU ms per trip, all processes", maxRate)
	for i := 0; i <= 4; i++ {
		v := maxCPU * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%.0f</text>`+"\n",
			rightPane, yCPU(v), rightPane+panelW, yCPU(v), rightPane-6, yCPU(v)+4, v)
	}
	for _, style := range styles {
		var lat, cpu []string
		for _, s := range reports[style].Steps {
			lat = append(lat, fmt.Sprintf("%.1f,%.1f", x(leftPanel, float64(s.Rate)), yLat(s.P99Ms)))
			cpu = append(cpu, fmt.Sprintf("%.1f,%.1f", x(rightPane, float64(s.Rate)), yCPU(s.CPUMsPerTrip["all"])))
		}
		polyline(&b, style, lat)
		polyline(&b, style, cpu)
	}
	legend(&b, leftPanel+10, panelTop+12, styles)
	b.WriteString("</svg>\n")
	return b.String()
}
