package e2e

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// How a benchmark run is shown: a Markdown table (printed, and pasted in
// the README), bench.json with every figure, and bench.svg, latency and
// throughput against the offered rate.

// machine describes where the run happened.
func machine() string {
	return fmt.Sprintf("%s, %d cores, %s", cpuModel(), runtime.NumCPU(), runtime.Version())
}

// cpuModel is the processor's name as Linux tells it, or GOARCH.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for line := range strings.Lines(string(b)) {
			if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				return strings.TrimSpace(value)
			}
		}
	}
	return runtime.GOARCH
}

// cpuColumns are the processes of the CPU columns, in order.
var cpuColumns = []string{"trip", "trip-dapr", "driver", "driver-dapr", "notification", "notification-dapr", "redis"}

// benchTable is the run as a Markdown table, with the hop below it.
func benchTable(r benchReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| offered trips/s | completed trips/s | lost | p50 | p95 | p99 | max | CPU ms/trip, all | %s |\n",
		strings.Join(cpuColumns, " | "))
	fmt.Fprintf(&b, "|%s\n", strings.Repeat(" ---: |", 8+len(cpuColumns)))
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "| %d | %.1f | %d | %s | %s | %s | %s | %.2f |", s.Rate, s.CompletedPerS, s.Lost,
			latency(s.P50Ms), latency(s.P95Ms), latency(s.P99Ms), latency(s.MaxMs), s.CPUMsPerTrip["all"])
		for _, c := range cpuColumns {
			fmt.Fprintf(&b, " %.2f |", s.CPUMsPerTrip[c])
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	for _, h := range r.Hops {
		fmt.Fprintf(&b, "One Dapr pub/sub hop on the same broker, delivered by %s: %d events, %.0f events/s, %.3f ms of CPU per event (publisher sidecar %.3f, subscriber sidecar %.3f, Redis %.3f).\n",
			h.Transport, h.Events, h.EventsPerS, h.CPUMsPerEvent["all"], h.CPUMsPerEvent["publisher-dapr"],
			h.CPUMsPerEvent["subscriber-dapr"], h.CPUMsPerEvent["redis"])
	}
	if r.Held > 0 {
		fmt.Fprintf(&b, "Highest rate held (nothing lost, p99 ≤ 1 s): %d trips/s, %.3f trips per hop event/s.\n", r.Held, r.HeldRatio)
	} else {
		b.WriteString("No rate was held (nothing lost, p99 ≤ 1 s).\n")
	}
	return b.String()
}

// latency formats milliseconds for the table.
func latency(ms float64) string {
	if ms >= 1000 {
		return fmt.Sprintf("%.2f s", ms/1000)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// writeBenchReport writes bench.json and bench.svg into dir.
func writeBenchReport(dir string, r benchReport) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.json"), append(raw, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "bench.svg"), []byte(benchChart(r)), 0o644)
}

// The chart: two panels side by side, each plotting against the offered
// rate. Left: latency p50, p95 and p99 on a logarithmic axis; right:
// completed trips/s, with the offered rate as the diagonal.
const (
	chartW, chartH       = 900, 380
	panelW, panelH       = 340, 260
	panelTop             = 60
	leftPanel, rightPane = 80, 530
)

var seriesColors = map[string]string{"p50": "#1b9e77", "p95": "#d95f02", "p99": "#7570b3", "completed": "#1b9e77", "offered": "#999999",
	styleChoreography: "#1b9e77", styleOrchestration: "#d95f02", styleWorkflow: "#7570b3"}

// benchChart draws the run as SVG.
func benchChart(r benchReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartW, chartH)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" text-anchor="middle">make bench: order → driver_assigned notification, %s</text>`+"\n", chartW/2, xmlEscape(r.Date[:10]))
	var hop float64
	if len(r.Hops) > 0 {
		hop = r.Hops[0].EventsPerS
	}
	fmt.Fprintf(&b, `<text x="%d" y="42" text-anchor="middle" fill="#555">%s; %d drivers; one pub/sub hop: %.0f events/s</text>`+"\n", chartW/2, xmlEscape(r.Machine), r.Settings.Pool, hop)

	maxRate := 1.0
	for _, s := range r.Steps {
		maxRate = max(maxRate, float64(s.Rate), s.CompletedPerS)
	}
	maxRate = niceCeil(maxRate)
	x := func(left int, rate float64) float64 { return float64(left) + rate/maxRate*panelW }

	// Latency panel, log scale from 1 ms to the next power of ten above
	// the largest p99.
	top := 1.0
	for _, s := range r.Steps {
		for top < s.P99Ms {
			top *= 10
		}
	}
	top = max(top, 100)
	yLat := func(ms float64) float64 {
		ms = max(ms, 1)
		return panelTop + panelH - math.Log10(ms)/math.Log10(top)*panelH
	}
	axes(&b, leftPanel, "offered trips/s", "latency (log scale)", maxRate)
	for v := 1.0; v <= top; v *= 10 {
		y := yLat(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n",
			leftPanel, y, leftPanel+panelW, y, leftPanel-6, y+4, latency(v))
	}
	for _, series := range []string{"p50", "p95", "p99"} {
		var pts []string
		for _, s := range r.Steps {
			v := map[string]float64{"p50": s.P50Ms, "p95": s.P95Ms, "p99": s.P99Ms}[series]
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(leftPanel, float64(s.Rate)), yLat(v)))
		}
		polyline(&b, series, pts)
	}
	legend(&b, leftPanel+10, panelTop+12, []string{"p50", "p95", "p99"})

	// Throughput panel, linear.
	yRate := func(v float64) float64 { return panelTop + panelH - v/maxRate*panelH }
	axes(&b, rightPane, "offered trips/s", "completed trips/s", maxRate)
	for i := 0; i <= 4; i++ {
		v := maxRate * float64(i) / 4
		y := yRate(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%.0f</text>`+"\n",
			rightPane, y, rightPane+panelW, y, rightPane-6, y+4, v)
	}
	polyline(&b, "offered", []string{fmt.Sprintf("%d,%.1f", rightPane, yRate(0)), fmt.Sprintf("%.1f,%.1f", x(rightPane, maxRate), yRate(maxRate))})
	var pts []string
	for _, s := range r.Steps {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(rightPane, float64(s.Rate)), yRate(s.CompletedPerS)))
	}
	polyline(&b, "completed", pts)
	legend(&b, rightPane+10, panelTop+12, []string{"completed", "offered"})
	b.WriteString("</svg>\n")
	return b.String()
}

// axes draws a panel's frame, its x ticks and its labels.
func axes(b *strings.Builder, left int, xLabel, yLabel string, maxRate float64) {
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", left, panelTop, panelW, panelH)
	for i := 0; i <= 4; i++ {
		v := maxRate * float64(i) / 4
		xx := float64(left) + float64(i)/4*panelW
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%.0f</text>`+"\n", xx, panelTop+panelH+16, v)
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", left+panelW/2, panelTop+panelH+36, xLabel)
	fmt.Fprintf(b, `<text transform="translate(%d %d) rotate(-90)" text-anchor="middle">%s</text>`+"\n", left-58, panelTop+panelH/2, yLabel)
}

// polyline draws one series; each point gets a dot.
func polyline(b *strings.Builder, series string, pts []string) {
	color := seriesColors[series]
	dash := ""
	if series == "offered" {
		dash = ` stroke-dasharray="4 4"`
	}
	fmt.Fprintf(b, `<polyline class="series" data-series="%s" fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", series, color, dash, strings.Join(pts, " "))
	if series == "offered" {
		return
	}
	for _, p := range pts {
		xy := strings.Split(p, ",")
		fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", xy[0], xy[1], color)
	}
}

func legend(b *strings.Builder, x, y int, series []string) {
	for i, s := range series {
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="3" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", x, y+i*16, seriesColors[s], x+16, y+i*16+5, s)
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// checkChart fails unless path is well-formed SVG with a series per
// latency percentile and one for throughput, each with a point per step.
func checkChart(t *testing.T, path string, r benchReport) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName   xml.Name `xml:"svg"`
		Polylines []struct {
			Series string `xml:"data-series,attr"`
			Points string `xml:"points,attr"`
		} `xml:"polyline"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s is not well-formed SVG: %v", path, err)
	}
	var got []string
	for _, p := range doc.Polylines {
		got = append(got, p.Series)
		if p.Series != "offered" && len(strings.Fields(p.Points)) != len(r.Steps) {
			t.Errorf("%s: series %s has points %q, want one per step (%d)", path, p.Series, p.Points, len(r.Steps))
		}
	}
	slices.Sort(got)
	if want := []string{"completed", "offered", "p50", "p95", "p99"}; !slices.Equal(got, want) {
		t.Errorf("%s: series %v, want %v", path, got, want)
	}
}
