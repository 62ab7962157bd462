package images

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/distribution/reference"
	"github.com/google/go-cmp/cmp"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// linuxAMD64 is the platform the linter builds for here, whatever the
// machine: the images run on Azure Container Apps, which is linux/amd64.
var linuxAMD64 = ocispecs.Platform{OS: "linux", Architecture: "amd64"}

// offlineResolver stands in for the registry lookup the linter makes for
// every base image (FROM): no registry is reachable where the tests run. It
// answers with a plausible image configuration for the platform asked for
// and records what was asked.
type offlineResolver struct {
	resolved []string
}

func (r *offlineResolver) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	r.resolved = append(r.resolved, ref)
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", "", nil, err
	}
	if !knownImages[named.Name()] {
		// As a registry would: a misspelt base image fails the build.
		return "", "", nil, fmt.Errorf("%s: not found (the offline stand-in for the registry knows %v)", ref, slices.Sorted(maps.Keys(knownImages)))
	}
	platform := linuxAMD64
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		platform = *opt.ImageOpt.Platform
	}
	var img dockerspec.DockerOCIImage
	img.Platform = platform
	img.RootFS = ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString(ref)}}
	img.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	if strings.HasPrefix(ref, "docker.io/library/golang:") {
		img.Config.Env = []string{"PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GOPATH=/go"}
		img.Config.WorkingDir = "/go"
	}
	if strings.HasSuffix(ref, ":nonroot") {
		img.Config.User = "65532"
	}
	dt, err := json.Marshal(img)
	if err != nil {
		return "", "", nil, err
	}
	return ref, digest.FromBytes(dt), dt, nil
}

// knownImages are the repositories the stand-in registry serves: the
// bases of this project's images.
var knownImages = map[string]bool{
	"docker.io/library/golang":          true,
	"gcr.io/distroless/static-debian13": true,
}

// finding is one warning of the linter (or its build error, as rule
// "error"), with the line it points at.
type finding struct {
	Rule string
	Line int
}

func (f finding) String() string { return fmt.Sprintf("%s (line %d)", f.Rule, f.Line) }

// lintDockerfile runs the rules behind `docker build --check` on dt, the
// experimental ones included, for every stage, and returns what they found
// and the base images they looked up.
func lintDockerfile(t *testing.T, name string, dt []byte) (findings []finding, details []string, resolved []string) {
	t.Helper()
	// Without a BuildKit client the linter takes its configuration from the
	// Dockerfile's own `# check=` directive only, so the test puts one in
	// front (a Dockerfile that brings its own is refused by the test
	// TestDockerfilesLintClean) and takes the line back out of the results.
	checked := append([]byte("# check=experimental=all\n"), dt...)
	resolver := &offlineResolver{}
	sourceMap := llb.NewSourceMap(nil, name, "Dockerfile", checked)
	sourceMap.Definition = &llb.Definition{} // no build: nothing to point at
	results, err := dockerfile2llb.DockerfileLint(context.Background(), checked, dockerfile2llb.ConvertOpt{
		Config: dockerui.Config{
			BuildPlatforms:  []ocispecs.Platform{linuxAMD64},
			TargetPlatforms: []ocispecs.Platform{linuxAMD64},
		},
		TargetPlatform: &linuxAMD64,
		MetaResolver:   resolver,
		SourceMap:      sourceMap,
	})
	if err != nil {
		t.Fatalf("lint %s: %v", name, err)
	}
	line := func(ranges []*pb.Range) int {
		if len(ranges) == 0 {
			return 0
		}
		return int(ranges[0].Start.Line) - 1
	}
	for _, w := range results.Warnings {
		var ranges []*pb.Range
		if w.Location != nil {
			ranges = w.Location.Ranges
		}
		findings = append(findings, finding{Rule: w.RuleName, Line: line(ranges)})
		details = append(details, fmt.Sprintf("%s:%d: %s: %s (%s)", name, line(ranges), w.RuleName, w.Detail, w.URL))
	}
	if results.Error != nil {
		ranges := results.Error.Location.Ranges
		findings = append(findings, finding{Rule: "error", Line: line(ranges)})
		details = append(details, fmt.Sprintf("%s:%d: %s", name, line(ranges), results.Error.Message))
	}
	return findings, details, resolver.resolved
}

// checkDirective returns the value of a Dockerfile's own `# check=`
// parser directive, if it has one.
func checkDirective(dt []byte) (string, bool) {
	value, _, _, ok := parser.ParseDirective("check", dt)
	return value, ok
}

func TestDockerfilesLintClean(t *testing.T) {
	for _, svc := range conventionServices(t) {
		t.Run(svc.id, func(t *testing.T) {
			dt := readDockerfile(t, svc)
			if value, ok := checkDirective(dt); ok {
				t.Errorf("%s has its own `# check=%s` directive: the linter runs with every rule here, and `docker build --check` should too", svc.dockerfile(), value)
			}
			findings, details, resolved := lintDockerfile(t, svc.dockerfile(), dt)
			if len(findings) > 0 {
				t.Errorf("BuildKit's linter finds %d problem(s) in %s:\n%s", len(findings), svc.dockerfile(), strings.Join(details, "\n"))
			}
			// The stand-in registry was asked for every base image: the
			// linter looked at every stage.
			if got, want := len(resolved), len(parseDockerfile(t, svc.dockerfile(), dt).stages); got != want {
				t.Errorf("the linter resolved %d base images (%v), want one per stage (%d)", got, resolved, want)
			}
		})
	}
}

// The linter must be able to fail: each snippet breaks one rule, and the
// test knows which and where (line numbers as in the snippet).
func TestLinterFindsMistakes(t *testing.T) {
	tests := []struct {
		name       string
		dockerfile string
		want       []finding
	}{
		{
			name:       "as in lower case after FROM in upper case",
			dockerfile: "FROM golang:1.26 as build\nFROM scratch\nCOPY --from=build /out/trip /trip\nENTRYPOINT [\"/trip\"]\n",
			want:       []finding{{"FromAsCasing", 1}},
		},
		{
			name:       "entrypoint in shell form",
			dockerfile: "FROM gcr.io/distroless/static-debian13:nonroot\nENTRYPOINT /trip\n",
			want:       []finding{{"JSONArgsRecommended", 2}},
		},
		{
			name:       "undefined arg in FROM",
			dockerfile: "FROM golang:1.26-trixie${SUFFIX} AS build\nRUN go version\n",
			want:       []finding{{"UndefinedArgInFrom", 1}},
		},
		{
			name:       "undefined variable",
			dockerfile: "FROM gcr.io/distroless/static-debian13:nonroot\nENV PATH=$GOROOT/bin:$PATH\n",
			want:       []finding{{"UndefinedVar", 2}},
		},
		{
			name:       "relative WORKDIR",
			dockerfile: "FROM golang:1.26-trixie AS build\nWORKDIR src\nRUN go version\n",
			want:       []finding{{"WorkdirRelativePath", 2}},
		},
		{
			name:       "legacy ENV key value",
			dockerfile: "FROM gcr.io/distroless/static-debian13:nonroot\nENV APP_HOST 0.0.0.0\n",
			want:       []finding{{"LegacyKeyValueFormat", 2}},
		},
		{
			name:       "secret in ENV",
			dockerfile: "FROM gcr.io/distroless/static-debian13:nonroot\nENV REDIS_PASSWORD=changeme\n",
			want:       []finding{{"SecretsUsedInArgOrEnv", 2}},
		},
		{
			name:       "constant platform in FROM",
			dockerfile: "FROM --platform=linux/amd64 golang:1.26-trixie AS build\nRUN go version\n",
			want:       []finding{{"FromPlatformFlagConstDisallowed", 1}},
		},
		{
			name:       "stage name in capitals",
			dockerfile: "FROM golang:1.26-trixie AS Build\nRUN go version\n",
			want:       []finding{{"StageNameCasing", 1}},
		},
		{
			name:       "protocol in capitals",
			dockerfile: "FROM gcr.io/distroless/static-debian13:nonroot\nEXPOSE 8080/TCP\n",
			want:       []finding{{"ExposeProtoCasing", 2}},
		},
		{
			name:       "host port in EXPOSE",
			dockerfile: "FROM gcr.io/distroless/static-debian13:nonroot\nEXPOSE 127.0.0.1:8080:8080\n",
			want:       []finding{{"ExposeInvalidFormat", 2}},
		},
		{
			name:       "two entrypoints",
			dockerfile: "FROM gcr.io/distroless/static-debian13:nonroot\nENTRYPOINT [\"/trip\"]\nENTRYPOINT [\"/driver\"]\n",
			want:       []finding{{"MultipleInstructionsDisallowed", 2}},
		},
		{
			name:       "experimental: stage comment not naming the stage",
			dockerfile: "# compiles the service\nFROM golang:1.26-trixie AS build\nRUN go version\n",
			want:       []finding{{"InvalidDefinitionDescription", 2}},
		},
		{
			name:       "instructions in mixed case",
			dockerfile: "FROM golang:1.26-trixie AS build\nrun go version\nRUN go env\nWORKDIR /src\n",
			want:       []finding{{"ConsistentInstructionCasing", 2}},
		},
		{
			name:       "copy from a stage that does not exist",
			dockerfile: "FROM gcr.io/distroless/static-debian13:nonroot\nCOPY --from=biuld /out/trip /trip\n",
			want:       []finding{{"error", 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, details, _ := lintDockerfile(t, "Dockerfile", []byte(tt.dockerfile))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("linter findings (-want +got):\n%s\n%s", diff, strings.Join(details, "\n"))
			}
		})
	}
}
