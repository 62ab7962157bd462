package images

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// repoRoot is the build context of every image: the repository.
const repoRoot = "../.."

// probeTimeout is how long a service's healthcheck mode waits for
// /healthz (healthcheckTimeout in services/*/healthcheck.go); the
// HEALTHCHECK must give it longer.
const probeTimeout = 2 * time.Second

// service is one row of the module table in docs/conventions.md.
type service struct {
	id, dir string
	port    int
}

func (s service) dockerfile() string { return s.dir + "/Dockerfile" }

// conventionServices reads the services' ids, folders and ports from
// docs/conventions.md, the page the team agreed on.
func conventionServices(t *testing.T) []service {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "conventions.md"))
	if err != nil {
		t.Fatal(err)
	}
	var services []service
	for line := range strings.Lines(string(doc)) {
		if !strings.HasPrefix(line, "| `github.com/ride-choreography/services/") {
			continue
		}
		// | module | folder | default port | Dapr app id | state store |
		cells := strings.Split(strings.ReplaceAll(line, "`", ""), "|")
		if len(cells) < 6 {
			t.Fatalf("conventions.md: cannot read the module table row %q", line)
		}
		port, err := strconv.Atoi(strings.TrimSpace(cells[3]))
		if err != nil {
			t.Fatalf("conventions.md: port in %q: %v", line, err)
		}
		services = append(services, service{id: strings.TrimSpace(cells[4]), dir: strings.TrimSpace(cells[2]), port: port})
	}
	// The four services (dispatch, added beside the first three, among
	// them), and the coordinators of the other styles (orchestrator,
	// workflow), each an image of its own.
	want := []string{"dispatch", "driver", "notification", "orchestrator", "trip", "workflow"}
	var got []string
	for _, s := range services {
		got = append(got, s.id)
	}
	if slices.Sort(got); !slices.Equal(got, want) {
		t.Fatalf("conventions.md names the services %v, want %v", got, want)
	}
	return services
}

func readDockerfile(t *testing.T, svc service) []byte {
	t.Helper()
	dt, err := os.ReadFile(filepath.Join(repoRoot, svc.dockerfile()))
	if err != nil {
		t.Fatal(err)
	}
	return dt
}

// dockerfile is a parsed Dockerfile.
type dockerfile struct {
	name     string
	stages   []instructions.Stage
	metaArgs []instructions.ArgCommand
	escape   rune
}

func parseDockerfile(t *testing.T, name string, dt []byte) dockerfile {
	t.Helper()
	ast, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	if len(stages) == 0 {
		t.Fatalf("%s has no stage", name)
	}
	return dockerfile{name: name, stages: stages, metaArgs: metaArgs, escape: ast.EscapeToken}
}

// baseImage is a stage's FROM with the ARGs before the first FROM
// expanded to their defaults.
func (df dockerfile) baseImage(s instructions.Stage) (string, error) {
	var env []string
	for _, a := range df.metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				env = append(env, kv.Key+"="+*kv.Value)
			}
		}
	}
	name, _, err := shell.NewLex(df.escape).ProcessWord(s.BaseName, shell.EnvsFromSlice(env))
	return name, err
}

// stage returns the stage a COPY --from names (a stage name or index).
func (df dockerfile) stage(from string) (instructions.Stage, bool) {
	if i, err := strconv.Atoi(from); err == nil && i >= 0 && i < len(df.stages) {
		return df.stages[i], true
	}
	for _, s := range df.stages {
		if strings.EqualFold(s.Name, from) {
			return s, true
		}
	}
	return instructions.Stage{}, false
}

// buildContext is what `docker build` sends from the repository: its
// files, less what .dockerignore excludes.
type buildContext struct {
	root   string
	ignore *patternmatcher.PatternMatcher
}

func loadBuildContext(t *testing.T, root string) buildContext {
	t.Helper()
	var patterns []string
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err == nil {
		defer f.Close()
		if patterns, err = ignorefile.ReadAll(f); err != nil {
			t.Fatalf(".dockerignore: %v", err)
		}
	} else if !os.IsNotExist(err) {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	return buildContext{root: root, ignore: pm}
}

// missing returns the problems with a COPY source (relative to the
// context): it does not exist, or files a Go build needs under it (go.mod,
// go.sum, the non-test .go files) are excluded by .dockerignore.
func (bc buildContext) missing(src string) []string {
	src = path.Clean(strings.TrimPrefix(src, "/"))
	info, err := os.Stat(filepath.Join(bc.root, filepath.FromSlash(src)))
	if err != nil {
		return []string{fmt.Sprintf("COPY %s: not in the build context (the repository root): %v", src, err)}
	}
	var files []string
	if info.IsDir() {
		err := filepath.WalkDir(filepath.Join(bc.root, filepath.FromSlash(src)), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			name := d.Name()
			if name == "go.mod" || name == "go.sum" || strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
				rel, err := filepath.Rel(bc.root, p)
				files = append(files, filepath.ToSlash(rel))
				return err
			}
			return nil
		})
		if err != nil {
			return []string{fmt.Sprintf("COPY %s: %v", src, err)}
		}
		if len(files) == 0 {
			return []string{fmt.Sprintf("COPY %s: no Go module files in it", src)}
		}
	} else {
		files = []string{src}
	}
	var problems []string
	for _, f := range files {
		excluded, err := bc.ignore.MatchesOrParentMatches(f)
		if err != nil {
			problems = append(problems, fmt.Sprintf("COPY %s: .dockerignore: %v", src, err))
		} else if excluded {
			problems = append(problems, fmt.Sprintf("COPY %s: %s is excluded by .dockerignore, the build needs it", src, f))
		}
	}
	return problems
}

// goEnvSet reports whether a RUN command line, with the ENVs of its stage
// before it, sets the Go environment variable name to value.
func goEnvSet(env map[string]string, cmdline, name, value string) bool {
	inline := regexp.MustCompile(`(^|[\s;&|])` + name + `=` + regexp.QuoteMeta(value) + `($|\s)`)
	return env[name] == value || inline.MatchString(cmdline)
}

// imageProblems returns how a service's Dockerfile breaks the rules this
// project's images keep, beyond the linter's: a static Go binary built with
// GOWORK=off from the service's module alone, on a distroless (or scratch)
// runtime image with pinned bases, run as a numeric non-root user, serving
// the service's port on every address, with a HEALTHCHECK the binary
// answers itself.
func imageProblems(df dockerfile, svc service, bc buildContext) []string {
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if len(df.stages) < 2 {
		report("one stage: want a build stage and a minimal runtime stage")
	}
	final := df.stages[len(df.stages)-1]
	earlier := map[string]bool{} // stage names: FROM <stage> pulls nothing
	for _, s := range df.stages {
		base, err := df.baseImage(s)
		earlier[strings.ToLower(s.Name)] = true
		if err != nil {
			report("FROM %s: %v", s.BaseName, err)
			continue
		}
		if base == "scratch" || earlier[strings.ToLower(base)] {
			continue
		}
		ref, err := reference.ParseNormalizedNamed(base)
		if err != nil {
			report("FROM %s: %v", base, err)
			continue
		}
		_, digested := ref.(reference.Digested)
		tagged, isTagged := ref.(reference.Tagged)
		if !digested && (!isTagged || tagged.Tag() == "latest") {
			report("FROM %s: pin the base image with a version tag or a digest", base)
		}
	}
	if base, _ := df.baseImage(final); base != "scratch" && !strings.HasPrefix(base, "gcr.io/distroless/static") {
		report("runtime image FROM %s: want gcr.io/distroless/static* or scratch (a static binary needs nothing else)", base)
	}
	// The Go that builds: the golang images run their own (GOTOOLCHAIN=local),
	// so their version must be the module's toolchain, the Go whose standard
	// library the vulnerability check judged.
	if want, err := moduleGo(svc); err != nil {
		report("%v", err)
	} else {
		for _, s := range df.stages {
			base, _ := df.baseImage(s)
			ref, err := reference.ParseNormalizedNamed(base)
			if err != nil || ref.Name() != "docker.io/library/golang" {
				continue
			}
			if tagged, ok := ref.(reference.Tagged); ok && tagged.Tag() != want && !strings.HasPrefix(tagged.Tag(), want+"-") {
				report("FROM %s: want golang:%s, the Go of the toolchain line in %s/go.mod", base, want, svc.dir)
			}
		}
	}

	// The build: a stage that runs `go build` with GOWORK=off and
	// CGO_ENABLED=0, and copies only the service's own module.
	builds := 0
	for _, s := range df.stages[:len(df.stages)-1] {
		env := map[string]string{}
		for _, c := range s.Commands {
			switch c := c.(type) {
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					env[kv.Key] = kv.Value
				}
			case *instructions.RunCommand:
				cmdline := strings.Join(c.CmdLine, " ")
				if !strings.Contains(cmdline, "go build") {
					continue
				}
				builds++
				for _, v := range [][2]string{{"GOWORK", "off"}, {"CGO_ENABLED", "0"}} {
					if !goEnvSet(env, cmdline, v[0], v[1]) {
						report("stage %s: `go build` without %s=%s (ENV or on the RUN line)", s.Name, v[0], v[1])
					}
				}
			}
		}
	}
	if builds == 0 {
		report("no stage before the last runs `go build`")
	}
	for _, s := range df.stages {
		for _, c := range s.Commands {
			if c, ok := c.(*instructions.CopyCommand); ok && c.From == "" {
				for _, src := range c.SourcePaths {
					clean := path.Clean(strings.TrimPrefix(src, "/"))
					if clean != svc.dir && !strings.HasPrefix(clean, svc.dir+"/") {
						report("COPY %s: outside %s; the module must build alone (GOWORK=off)", src, svc.dir)
					}
					problems = append(problems, bc.missing(src)...)
				}
			}
		}
	}

	// The runtime stage.
	var (
		user       *instructions.UserCommand
		exposed    []string
		env        = map[string]string{}
		entrypoint *instructions.EntrypointCommand
		health     *instructions.HealthCheckCommand
		copiedTo   = map[string]bool{}
	)
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c
		case *instructions.ExposeCommand:
			exposed = append(exposed, c.Ports...)
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = kv.Value
			}
		case *instructions.EntrypointCommand:
			entrypoint = c
		case *instructions.HealthCheckCommand:
			health = c
		case *instructions.CopyCommand:
			if from, ok := df.stage(c.From); c.From != "" && ok && from.Name != final.Name {
				copiedTo[c.DestPath] = true
			}
		}
	}
	if user == nil {
		report("runtime stage: no USER, the container would run as root")
	} else {
		uid, _, _ := strings.Cut(user.User, ":")
		n, err := strconv.Atoi(uid)
		switch {
		case uid == "root" || err == nil && n == 0:
			report("USER %s: the container would run as root", user.User)
		case err != nil:
			report("USER %s: want a numeric uid, so that Kubernetes' runAsNonRoot can tell it is not root", user.User)
		}
	}
	wantPort := strconv.Itoa(svc.port)
	if !slices.Equal(exposed, []string{wantPort}) && !slices.Equal(exposed, []string{wantPort + "/tcp"}) {
		report("EXPOSE %v: want %s, the service's port in docs/conventions.md", exposed, wantPort)
	}
	if env["APP_HOST"] != "0.0.0.0" {
		report("runtime stage: ENV APP_HOST=%q, want 0.0.0.0 (the service binds 127.0.0.1 by default, unreachable from outside the container)", env["APP_HOST"])
	}
	if p, ok := env["APP_PORT"]; ok && p != wantPort {
		report("runtime stage: ENV APP_PORT=%s, want %s", p, wantPort)
	}
	binary := ""
	if entrypoint == nil || entrypoint.PrependShell || len(entrypoint.CmdLine) == 0 {
		report("runtime stage: want ENTRYPOINT [\"/<binary>\"] in exec form (distroless has no shell)")
	} else {
		binary = entrypoint.CmdLine[0]
		if !copiedTo[binary] {
			report("ENTRYPOINT %s: not a file copied from the build stage", binary)
		}
	}
	switch {
	case health == nil:
		report("runtime stage: no HEALTHCHECK; want CMD [%q, \"healthcheck\"]", binary)
	case !slices.Equal(health.Health.Test, []string{"CMD", binary, "healthcheck"}):
		report("HEALTHCHECK %v: want CMD [%q, \"healthcheck\"] (exec form: no shell, no curl in the image)", health.Health.Test, binary)
	case health.Health.Timeout <= probeTimeout:
		report("HEALTHCHECK --timeout=%s: want more than the probe's own %s", health.Health.Timeout, probeTimeout)
	}
	return problems
}

// moduleGo returns the Go version a service's module builds with: its
// go.mod's toolchain line, or its go line when it has none.
func moduleGo(svc service) (string, error) {
	gomod, err := os.ReadFile(filepath.Join(repoRoot, svc.dir, "go.mod"))
	if err != nil {
		return "", err
	}
	if m := regexp.MustCompile(`(?m)^toolchain go(\S+)$`).FindSubmatch(gomod); m != nil {
		return string(m[1]), nil
	}
	if m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod); m != nil {
		return string(m[1]), nil
	}
	return "", fmt.Errorf("%s/go.mod names no Go version", svc.dir)
}

func TestImagesKeepTheProjectRules(t *testing.T) {
	bc := loadBuildContext(t, repoRoot)
	for _, svc := range conventionServices(t) {
		t.Run(svc.id, func(t *testing.T) {
			df := parseDockerfile(t, svc.dockerfile(), readDockerfile(t, svc))
			if problems := imageProblems(df, svc, bc); len(problems) > 0 {
				t.Errorf("%s:\n%s", svc.dockerfile(), strings.Join(problems, "\n"))
			}
		})
	}
}

// The rules must be able to fail: each edit of the trip Dockerfile (or of
// .dockerignore) breaks one, and the test knows which.
func TestImageRulesCatchMistakes(t *testing.T) {
	var trip service
	for _, svc := range conventionServices(t) {
		if svc.id == "trip" {
			trip = svc
		}
	}
	original := string(readDockerfile(t, trip))
	tests := []struct {
		name         string
		old, new     string // an edit of the Dockerfile
		dockerignore string // replaces .dockerignore when set
		want         string
	}{
		{name: "runs as root", old: "USER 65532:65532", new: "USER root", want: "would run as root"},
		{name: "user by name", old: "USER 65532:65532", new: "USER nonroot:nonroot", want: "numeric uid"},
		{name: "runs as uid 0", old: "USER 65532:65532", new: "USER 0:0", want: "would run as root"},
		{name: "no USER", old: "USER 65532:65532\n", new: "", want: "no USER"},
		{name: "runtime on a full OS", old: "FROM gcr.io/distroless/static-debian13:nonroot", new: "FROM debian:trixie-slim", want: "want gcr.io/distroless/static"},
		{name: "floating base", old: "golang:${GO_VERSION}-trixie AS build", new: "golang AS build", want: "FROM golang: pin the base image"},
		{name: "older Go than the module's", old: "ARG GO_VERSION=1.27.3", new: "ARG GO_VERSION=1.26", want: "want golang:1.27.3, the Go of the toolchain line"},
		{name: "Go pinned in FROM", old: "golang:${GO_VERSION}-trixie AS build", new: "golang:1.26.8-trixie AS build", want: "want golang:1.27.3"},
		{name: "workspace build", old: "ENV GOWORK=off CGO_ENABLED=0", new: "ENV CGO_ENABLED=0", want: "without GOWORK=off"},
		{name: "cgo build", old: "ENV GOWORK=off CGO_ENABLED=0", new: "ENV GOWORK=off", want: "without CGO_ENABLED=0"},
		{name: "another module copied", old: "COPY services/trip/ ./", new: "COPY services/ ./", want: "outside services/trip"},
		{name: "copy of a missing path", old: "COPY services/trip/go.mod services/trip/go.sum ./", new: "COPY services/trip/go.mod services/trip/go.work.sum ./", want: "not in the build context"},
		{name: "wrong port", old: "EXPOSE 8080", new: "EXPOSE 8081", want: "want 8080"},
		{name: "loopback only", old: "ENV APP_HOST=0.0.0.0 APP_PORT=8080", new: "ENV APP_PORT=8080", want: "APP_HOST"},
		{name: "entrypoint in shell form", old: `ENTRYPOINT ["/trip"]`, new: "ENTRYPOINT /trip", want: "exec form"},
		{name: "healthcheck with curl", old: `CMD ["/trip", "healthcheck"]`, new: `CMD ["curl", "-f", "http://localhost:8080/healthz"]`, want: "HEALTHCHECK [CMD curl"},
		{name: "healthcheck timeout too short", old: "--timeout=3s", new: "--timeout=2s", want: "--timeout=2s"},
		{name: "build input ignored", dockerignore: "*\n!services/\nservices/trip/go.sum\n", want: "services/trip/go.sum is excluded"},
		{name: "sources ignored", dockerignore: "*\n!services/\n**/*.go\n", want: "services/trip/main.go is excluded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edited := original
			if tt.old != "" {
				if !strings.Contains(original, tt.old) {
					t.Fatalf("%s no longer contains %q; update this case", trip.dockerfile(), tt.old)
				}
				edited = strings.Replace(original, tt.old, tt.new, 1)
			}
			bc := loadBuildContext(t, repoRoot)
			if tt.dockerignore != "" {
				pm, err := patternmatcher.New(strings.Fields(tt.dockerignore))
				if err != nil {
					t.Fatal(err)
				}
				bc.ignore = pm
			}
			problems := imageProblems(parseDockerfile(t, "edited", []byte(edited)), trip, bc)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("problems %q, want one containing %q", problems, tt.want)
			}
		})
	}
}
