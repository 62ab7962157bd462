package e2e

import (
	"os"
	"path/filepath"
	"regexp"
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
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\)`).FindAllStringSubmatch(string(b), -1) {
			defined[m[1]] = true
		}
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
