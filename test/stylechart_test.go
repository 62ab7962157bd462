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

// TestStyleChartIsDrawnFromTheReports redraws the chart from the reports
// and fails when docs/bench/styles.svg differs, so that the picture in the
// README is the one the kept reports give; STYLE_CHART_WRITE=1 writes it.
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
	for _, style := range []string{styleChoreography, styleOrchestration, styleWorkflow} {
		if n := strings.Count(svg, `data-series="`+style+`"`); n != 2 {
			t.Errorf("the chart has %d lines of %s, want two (latency and CPU)", n, style)
		}
	}
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
