// Command vulncheck judges what govulncheck found in the project's modules
// and binaries, for make lint (scripts/govulncheck.sh runs both).
//
//	vulncheck -allow allowlist TARGET=REPORT.json ...
//
// Each REPORT.json is what `govulncheck -format json` wrote for TARGET (a
// module in source mode, a binary in binary mode). A vulnerability is
// reached when govulncheck found its vulnerable code called (source mode) or
// linked in (binary mode): what govulncheck's text output counts as "your
// code is affected". Every reached vulnerability fails the check unless the
// allow-list names it for that target, with the reason it cannot reach
// users; vulnerabilities in packages that are imported or modules that are
// required but whose vulnerable code is not reached are counted, not failed.
// An allow-list entry that matches nothing reached fails too, so the list
// cannot outlive its reasons.
//
// The allow-list has one entry a line: the target, the vulnerability's id,
// then the reason (required); # starts a comment line.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(1)
	}
}

// errFindings says the check failed; the details are in the summary.
var errFindings = errors.New("vulnerabilities reached that the allow-list does not name; see above")

func run(args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("vulncheck", flag.ContinueOnError)
	allowPath := flags.String("allow", "", "the allow-list file")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *allowPath == "" || flags.NArg() == 0 {
		return errors.New("usage: vulncheck -allow FILE TARGET=REPORT.json [TARGET=REPORT.json]")
	}
	allowFile, err := os.Open(*allowPath)
	if err != nil {
		return err
	}
	defer allowFile.Close()
	allow, err := parseAllowList(allowFile)
	if err != nil {
		return fmt.Errorf("%s: %w", *allowPath, err)
	}

	var reports []report
	for _, arg := range flags.Args() {
		target, path, ok := strings.Cut(arg, "=")
		if !ok || target == "" || path == "" {
			return fmt.Errorf("argument %q is not TARGET=REPORT.json", arg)
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		r, err := readReport(target, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s (%s): %w", target, path, err)
		}
		reports = append(reports, r)
	}

	if !judge(stdout, reports, allow) {
		return errFindings
	}
	return nil
}

// allowEntry is one line of the allow-list.
type allowEntry struct {
	target, id, reason string
	line               int
}

func parseAllowList(r io.Reader) ([]allowEntry, error) {
	var entries []allowEntry
	seen := map[[2]string]bool{}
	scanner := bufio.NewScanner(r)
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			return nil, fmt.Errorf("line %d: want TARGET ID REASON, got %q", n, line)
		}
		key := [2]string{fields[0], fields[1]}
		if seen[key] {
			return nil, fmt.Errorf("line %d: %s %s is listed twice", n, fields[0], fields[1])
		}
		seen[key] = true
		entries = append(entries, allowEntry{
			target: fields[0],
			id:     fields[1],
			reason: strings.Join(fields[2:], " "),
			line:   n,
		})
	}
	return entries, scanner.Err()
}

// The parts of govulncheck's JSON protocol (golang.org/x/vuln/internal/govulncheck,
// protocol v1.0.0) that the check reads.
type message struct {
	Config  *config  `json:"config"`
	SBOM    *sbom    `json:"SBOM"`
	OSV     *osv     `json:"osv"`
	Finding *finding `json:"finding"`
}

type config struct {
	ScannerVersion string `json:"scanner_version"`
	DB             string `json:"db"`
	GoVersion      string `json:"go_version"`
	ScanMode       string `json:"scan_mode"`
}

type sbom struct {
	GoVersion string `json:"go_version"`
}

type osv struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
}

type finding struct {
	OSV          string   `json:"osv"`
	FixedVersion string   `json:"fixed_version"`
	Trace        []*frame `json:"trace"`
}

type frame struct {
	Module   string    `json:"module"`
	Version  string    `json:"version"`
	Package  string    `json:"package"`
	Function string    `json:"function"`
	Receiver string    `json:"receiver"`
	Position *position `json:"position"`
}

type position struct {
	Filename string `json:"filename"`
	Line     int    `json:"line"`
}

// report is what govulncheck found in one target, by vulnerability.
type report struct {
	target, mode, goVersion, scanner, db string
	vulns                                map[string]*vuln
}

// vuln is one vulnerability found in a target.
type vuln struct {
	id, summary string
	reached     bool
	// modules: "module@version (fixed in X)" of the findings that reach it.
	modules map[string]bool
	// example: one path from the target's code to the vulnerable symbol
	// (the first in sort order).
	example string
}

func readReport(target string, r io.Reader) (report, error) {
	rep := report{target: target, vulns: map[string]*vuln{}}
	summaries := map[string]string{}
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return rep, fmt.Errorf("read govulncheck's JSON: %w", err)
		}
		switch {
		case m.Config != nil:
			rep.mode = m.Config.ScanMode
			rep.scanner = m.Config.ScannerVersion
			rep.db = m.Config.DB
			if rep.goVersion == "" {
				rep.goVersion = m.Config.GoVersion
			}
		case m.SBOM != nil && m.SBOM.GoVersion != "":
			// The Go the code was (or is) built with: a binary's own.
			rep.goVersion = m.SBOM.GoVersion
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			f := m.Finding
			v := rep.vulns[f.OSV]
			if v == nil {
				v = &vuln{id: f.OSV, modules: map[string]bool{}}
				rep.vulns[f.OSV] = v
			}
			if f.Trace[0].Function == "" {
				continue // imported or required, not reached
			}
			v.reached = true
			v.modules[moduleVersion(f)] = true
			// The same one every run: govulncheck's order is not.
			if ex := example(f.Trace); v.example == "" || ex < v.example {
				v.example = ex
			}
		}
	}
	if rep.mode == "" {
		return rep, errors.New("no govulncheck config message: not govulncheck's JSON output")
	}
	for id, v := range rep.vulns {
		v.summary = summaries[id]
	}
	return rep, nil
}

func moduleVersion(f *finding) string {
	top := f.Trace[0]
	mv := top.Module + "@" + top.Version
	if f.FixedVersion == "" {
		return mv + " (no fixed version)"
	}
	return mv + " (fixed in " + f.FixedVersion + ")"
}

// example names a trace's two ends: the target's own code (the last frame)
// and the vulnerable symbol (the first).
func example(trace []*frame) string {
	symbol := describe(trace[0])
	if len(trace) == 1 {
		return symbol
	}
	return describe(trace[len(trace)-1]) + " ... " + symbol
}

func describe(f *frame) string {
	name := f.Package + "." + f.Function
	if f.Receiver != "" {
		name = f.Package + "." + strings.TrimPrefix(f.Receiver, "*") + "." + f.Function
	}
	if f.Position != nil && f.Position.Filename != "" {
		name += fmt.Sprintf(" (%s:%d)", f.Position.Filename, f.Position.Line)
	}
	return name
}

// judge prints the summary and says whether the check passed.
func judge(w io.Writer, reports []report, allow []allowEntry) bool {
	allowed := map[[2]string]*allowEntry{}
	for i := range allow {
		allowed[[2]string{allow[i].target, allow[i].id}] = &allow[i]
	}
	used := map[*allowEntry]bool{}
	var failures, permitted []string

	if len(reports) > 0 {
		fmt.Fprintf(w, "govulncheck %s, database %s\n", reports[0].scanner, reports[0].db)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tMODE\tGO\tREACHED\tALLOWED\tNOT REACHED")
	for _, rep := range reports {
		var reached, ok, notReached int
		for _, id := range sortedIDs(rep.vulns) {
			v := rep.vulns[id]
			if !v.reached {
				notReached++
				continue
			}
			reached++
			line := fmt.Sprintf("%s %s %s: %s\n    %s", rep.target, v.id, strings.Join(sortedKeys(v.modules), ", "), v.summary, v.example)
			if e := allowed[[2]string{rep.target, v.id}]; e != nil {
				ok++
				used[e] = true
				permitted = append(permitted, line+"\n    allowed: "+e.reason)
				continue
			}
			failures = append(failures, line)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\n", rep.target, rep.mode, rep.goVersion, reached, ok, notReached)
	}
	tw.Flush()

	for _, p := range permitted {
		fmt.Fprintln(w, "ALLOWED", p)
	}
	var stale []string
	for i := range allow {
		if !used[&allow[i]] {
			stale = append(stale, fmt.Sprintf("allow-list line %d: %s %s matches nothing reached; remove it", allow[i].line, allow[i].target, allow[i].id))
		}
	}
	for _, s := range stale {
		fmt.Fprintln(w, "STALE", s)
	}
	for _, f := range failures {
		fmt.Fprintln(w, "FAIL", f)
	}
	switch {
	case len(failures) > 0 || len(stale) > 0:
		fmt.Fprintf(w, "vulnerability check failed: %d reached and not allowed, %d stale allow-list entries\n", len(failures), len(stale))
		return false
	default:
		fmt.Fprintf(w, "vulnerability check passed: nothing reached but %d allowed\n", len(permitted))
		return true
	}
}

func sortedIDs(m map[string]*vuln) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
