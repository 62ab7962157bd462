package e2e

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
)

// The style scenarios (styles_test.go) each give a cell of the README's
// style table: a scenario per row, a style per column. make test-styles
// runs them with STYLE_TABLE naming the README, and writes the table
// between these two lines when every one passed; make e2e runs them too,
// and writes nothing.
const (
	styleTableStart = "<!-- style table: written by make test-styles -->"
	styleTableEnd   = "<!-- end of style table -->"
)

// styleScenarios are the table's rows, in order: the design's named
// problems.
var styleScenarios = []struct{ key, title string }{
	{"crash", "coordinator SIGKILLed with 100 trips in flight (driver service down), then restarted: completed / lost / duplicated; trips the restart does not know"},
	{"driver-down", "driver service down 30 s while 20 trips are ordered, then back: completed / lost / duplicated; settled after it came back"},
	{"retried-order", "the same order sent twice with one Idempotency-Key: trips, drivers taken, notifications"},
	{"replicas", "two coordinator replicas, 20 trips ordered at the first: completed; known to the second"},
	{"add-step", "adding a step, an audit log of every order in a new service ([the patches](test/testdata/addstep/)): files and lines changed in existing services; the new service"},
}

// styleCells are what the scenarios measured: scenario -> style -> cell.
var styleCells = struct {
	sync.Mutex
	cells map[string]map[string]string
}{cells: map[string]map[string]string{}}

// recordStyleCell keeps a scenario's figures for a style, for the table.
func recordStyleCell(scenario, style, format string, args ...any) {
	styleCells.Lock()
	defer styleCells.Unlock()
	if styleCells.cells[scenario] == nil {
		styleCells.cells[scenario] = map[string]string{}
	}
	styleCells.cells[scenario][style] = fmt.Sprintf(format, args...)
}

// writeStyleTable writes the table into the README at path when
// STYLE_TABLE names it and every scenario of every style gave its cell.
func writeStyleTable() error {
	path := os.Getenv("STYLE_TABLE")
	if path == "" {
		return nil
	}
	styles := []string{styleChoreography, styleOrchestration, styleWorkflow}
	styleCells.Lock()
	defer styleCells.Unlock()
	var out strings.Builder
	out.WriteString(styleTableStart + "\n")
	fmt.Fprintf(&out, "| scenario | %s |\n|---|%s\n", strings.Join(styles, " | "), strings.Repeat("---|", len(styles)))
	for _, sc := range styleScenarios {
		row := []string{sc.title}
		for _, style := range styles {
			cell, ok := styleCells.cells[sc.key][style]
			if !ok {
				return fmt.Errorf("style table: scenario %s gave no figures for %s; run every style scenario (make test-styles)", sc.key, style)
			}
			row = append(row, cell)
		}
		out.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	fmt.Fprintf(&out, "\nMeasured %s, %s, %d cores, by `make test-styles`.\n", time.Now().UTC().Format("2006-01-02"), cpuModel(), runtime.NumCPU())
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(b)
	i, j := strings.Index(text, styleTableStart), strings.Index(text, styleTableEnd)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no style table: no %q line followed by %q", path, styleTableStart, styleTableEnd)
	}
	if err := os.WriteFile(path, []byte(text[:i]+out.String()+text[j:]), 0o644); err != nil {
		return err
	}
	fmt.Printf("style table: %d rows written to %s\n", len(styleScenarios), path)
	return nil
}
