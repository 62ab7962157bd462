package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The design's last named problem: every new step changes the naive
// orchestrator, where in choreography it is a new subscriber and nothing
// else changes. testdata/addstep holds the same change made in each style
// (a new service, audit, that logs every order): in choreography it
// subscribes to trip-created; in the other styles the coordinator invokes
// its step. TestAddingAStep applies each to a copy of this tree, vets and
// tests every module it touches there, and counts the files and lines it
// changes in the services that existed before it. testdata/addstep/README.md
// says how to make the patches again when the tree moves under them.
func TestAddingAStep(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, style := range []string{styleChoreography, styleOrchestration, styleWorkflow} {
		t.Run(style, func(t *testing.T) {
			t.Parallel()
			patch, err := filepath.Abs(filepath.Join("testdata", "addstep", style+".patch"))
			if err != nil {
				t.Fatal(err)
			}
			changes, err := patchStat(root, patch)
			if err != nil {
				t.Fatal(err)
			}
			var existing, tests, added changeCount
			touched := map[string]bool{} // module folders the patch touches
			for _, c := range changes {
				module, inService := serviceOf(c.path)
				if !inService {
					continue // go.work
				}
				touched[module] = true
				switch _, err := os.Stat(filepath.Join(root, module)); {
				case err != nil:
					added.add(c)
				case strings.HasSuffix(c.path, "_test.go"):
					tests.add(c)
				default:
					existing.add(c)
				}
			}
			if added.files == 0 {
				t.Fatalf("%s adds no service: %v", patch, changes)
			}

			// Where the change lands in each style.
			coordinator := map[string]string{styleOrchestration: "services/orchestrator", styleWorkflow: "services/workflow"}[style]
			for _, c := range changes {
				module, inService := serviceOf(c.path)
				if _, err := os.Stat(filepath.Join(root, module)); inService && err == nil && module != coordinator {
					t.Errorf("%s changes %s: a new step changes no service but the coordinator, if any", patch, c.path)
				}
			}
			flow := map[string]string{styleOrchestration: "services/orchestrator/internal/app/service.go", styleWorkflow: "services/workflow/internal/dapr/workflow.go"}[style]
			if flow != "" && !changes.has(flow) {
				t.Errorf("%s does not change %s, where %s's flow is", patch, flow, style)
			}
			if style == styleChoreography && existing.files+tests.files != 0 {
				t.Errorf("%s changes %d files of existing services, want none", patch, existing.files+tests.files)
			}

			// The change is real: it applies to this tree, and every module it
			// touches passes go vet and its tests, the new service's included.
			tree := copyTree(t, root)
			if out, err := run(tree, "git", "apply", patch); err != nil {
				t.Fatalf("%s does not apply to this tree: %v\n%s\nMake it again (testdata/addstep/README.md).", patch, err, out)
			}
			for module := range touched {
				if out, err := run(filepath.Join(tree, module), "go", "vet", "./..."); err != nil {
					t.Errorf("go vet in %s after %s: %v\n%s", module, filepath.Base(patch), err, out)
				}
				if out, err := run(filepath.Join(tree, module), "go", "test", "-count=1", "./..."); err != nil {
					t.Errorf("go test in %s after %s: %v\n%s", module, filepath.Base(patch), err, out)
				}
			}

			changed := "nothing"
			if existing.files > 0 {
				changed = fmt.Sprintf("%s: %s, and %s of its tests", strings.TrimPrefix(coordinator, "services/"), existing, tests)
			}
			recordStyleCell("add-step", style, "%s; the new service: %d files, +%d", changed, added.files, added.added)
			t.Logf("%s: in existing services %s (tests %s); new %s", style, existing, tests, added)
		})
	}
}

// patchChange is one file of a patch: its path and the lines it adds and
// deletes there.
type patchChange struct {
	path           string
	added, deleted int
}

type patchChanges []patchChange

func (cs patchChanges) has(path string) bool {
	for _, c := range cs {
		if c.path == path {
			return true
		}
	}
	return false
}

// patchStat reads the files and lines a patch changes (git apply
// --numstat, from the root of the tree it applies to: from a folder below,
// git leaves out the paths outside it).
func patchStat(root, patch string) (patchChanges, error) {
	cmd := exec.Command("git", "apply", "--numstat", patch)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git apply --numstat %s: %w", patch, err)
	}
	var changes patchChanges
	scanner := bufio.NewScanner(bytes.NewReader(out))
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) != 3 {
			return nil, fmt.Errorf("git apply --numstat %s: %q", patch, scanner.Text())
		}
		added, errA := strconv.Atoi(fields[0])
		deleted, errD := strconv.Atoi(fields[1])
		if errA != nil || errD != nil {
			return nil, fmt.Errorf("git apply --numstat %s: %q: not a text change", patch, scanner.Text())
		}
		changes = append(changes, patchChange{path: fields[2], added: added, deleted: deleted})
	}
	return changes, nil
}

// serviceOf returns the module folder (services/<name>) of a path, and
// whether it is in one.
func serviceOf(path string) (string, bool) {
	parts := strings.SplitN(path, "/", 3)
	if len(parts) < 3 || parts[0] != "services" {
		return "", false
	}
	return parts[0] + "/" + parts[1], true
}

// changeCount sums the changes of some files.
type changeCount struct{ files, added, deleted int }

func (c *changeCount) add(p patchChange) {
	c.files++
	c.added += p.added
	c.deleted += p.deleted
}

func (c changeCount) String() string {
	unit := "files"
	if c.files == 1 {
		unit = "file"
	}
	return fmt.Sprintf("%d %s, +%d −%d", c.files, unit, c.added, c.deleted)
}

// copyTree copies the repository's files (tracked, and new ones not
// ignored) into a temporary folder, which it makes a Git repository so
// that git apply works there as in a checkout.
func copyTree(t *testing.T, root string) string {
	t.Helper()
	out, err := run(root, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	if err != nil {
		t.Fatalf("git ls-files: %v\n%s", err, out)
	}
	tree := t.TempDir()
	for _, rel := range strings.Split(strings.TrimRight(out, "\x00"), "\x00") {
		if err := copyFile(filepath.Join(root, rel), filepath.Join(tree, rel)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if out, err := run(tree, "git", "init", "-q"); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	return tree
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil || info.IsDir() {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// run runs a command in dir and returns its combined output.
func run(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}
