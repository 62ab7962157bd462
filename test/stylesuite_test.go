package e2e

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The Makefile's STYLE_SUITE_<style> names the tests that make e2e
// STYLE=<style> runs with -run, which matches a name that no longer exists
// silently: every name it lists must be a test of this package.
func TestStyleSuitesNameTests(t *testing.T) {
	makefile, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	defined, err := definedTests()
	if err != nil {
		t.Fatal(err)
	}
	lines := regexp.MustCompile(`(?m)^STYLE_SUITE\w* := (.*)$`).FindAllStringSubmatch(string(makefile), -1)
	if len(lines) < 3 {
		t.Fatalf("the Makefile has %d STYLE_SUITE lines, want STYLE_SUITE and one per other style", len(lines))
	}
	named := 0
	for _, l := range lines {
		for _, name := range strings.Split(l[1], "|") {
			if !strings.HasPrefix(name, "Test") {
				continue // $(STYLE_SUITE)
			}
			named++
			if !defined[name] {
				t.Errorf("the Makefile's %q names %s, which is no test of test/", l[0], name)
			}
		}
	}
	if named == 0 {
		t.Error("the STYLE_SUITE lines name no test")
	}
}

// definedTests returns the name of every test of this package, read from
// its files (build tags included).
func definedTests() (map[string]bool, error) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		return nil, err
	}
	defined := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, m := range regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\)`).FindAllStringSubmatch(string(b), -1) {
			defined[m[1]] = true
		}
	}
	return defined, nil
}

// staticTests start no system: they read files only. A run of nothing
// else (go test -run TestOpenAPI) needs no daprd and builds no service.
var staticTests = []string{
	"TestOpenAPIDocumentsEveryPublicRoute",
	"TestOpenAPICheckCatchesWrongAnswers",
	"TestStyleSuitesNameTests",
}

// staticOnly reports whether -run selects static tests only.
func staticOnly() bool {
	run := flag.Lookup("test.run")
	if run == nil || run.Value.String() == "" {
		return false
	}
	top, _, _ := strings.Cut(run.Value.String(), "/")
	re, err := regexp.Compile(top)
	if err != nil {
		return false
	}
	defined, err := definedTests()
	if err != nil {
		return false
	}
	selected := 0
	for name := range defined {
		if !re.MatchString(name) {
			continue
		}
		if !slices.Contains(staticTests, name) {
			return false
		}
		selected++
	}
	return selected > 0
}
