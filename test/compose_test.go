package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// No container engine runs where these tests run, so the two other ways to
// run the system locally, docker-compose.yml and dapr.yaml, are checked
// against the conventions the services follow.

// conventionApp is one row of the module table in docs/conventions.md.
type conventionApp struct {
	id, dir string
	port    int
}

// localApps are the services that docker-compose.yml, dapr.yaml and make
// run start in the choreography: the three of the ride, and dispatch, added
// beside them without changing them (README, "Adding a service"), which
// reads their events. The coordinators of the other styles take the trip
// service's place through override files instead.
var localApps = append(slices.Clone(services), dispatchService)

// conventionApps reads the app ids, folders and ports of localApps from
// docs/conventions.md, the page the team agreed on.
func conventionApps(t *testing.T) []conventionApp {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "conventions.md"))
	if err != nil {
		t.Fatal(err)
	}
	var apps []conventionApp
	for line := range strings.Lines(string(doc)) {
		if !strings.HasPrefix(line, "| `github.com/ride-choreography/services/") {
			continue
		}
		// | module | folder | default port | Dapr app id | state store |
		cells := strings.Split(strings.ReplaceAll(line, "`", ""), "|")
		if len(cells) < 6 {
			t.Fatalf("conventions.md: cannot read the module table row %q", line)
		}
		if !slices.Contains(localApps, strings.TrimSpace(cells[4])) {
			continue // a coordinator of another style, not deployed by default
		}
		port, err := strconv.Atoi(strings.TrimSpace(cells[3]))
		if err != nil {
			t.Fatalf("conventions.md: port in %q: %v", line, err)
		}
		apps = append(apps, conventionApp{id: strings.TrimSpace(cells[4]), dir: strings.TrimSpace(cells[2]), port: port})
	}
	if len(apps) != len(localApps) {
		t.Fatalf("conventions.md names %d of the services %v (%v), want each once", len(apps), localApps, apps)
	}
	return apps
}

func TestComposeGivesEveryServiceASidecar(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// The tokens come from the environment: without them the file does
	// not load; with them, every app and its sidecar get them.
	load := func(env ...string) (*types.Project, error) {
		opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
			cli.WithWorkingDirectory(root), cli.WithName("ride-choreography"), cli.WithEnv(env))
		if err != nil {
			t.Fatal(err)
		}
		return opts.LoadProject(context.Background())
	}
	if _, err := load(); err == nil || !strings.Contains(err.Error(), "APP_API_TOKEN") {
		t.Errorf("docker-compose.yml loads without APP_API_TOKEN and DAPR_API_TOKEN (error %v); want it to refuse", err)
	}
	const appToken, daprToken = "compose-app-token-0123456789", "compose-dapr-token-0123456789"
	project, err := load("APP_API_TOKEN="+appToken, "DAPR_API_TOKEN="+daprToken)
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	if _, ok := project.Services["redis"]; !ok {
		t.Errorf("docker-compose.yml has no redis service")
	}
	if jaeger, ok := project.Services["jaeger"]; !ok || !strings.HasPrefix(jaeger.Image, "jaegertracing/jaeger:2.") {
		t.Errorf("docker-compose.yml has no jaeger service of the official Jaeger v2 image, for the services' traces")
	}

	for _, a := range conventionApps(t) {
		t.Run(a.id, func(t *testing.T) {
			svc, ok := project.Services[a.id]
			if !ok {
				t.Fatalf("no service %q", a.id)
			}
			if svc.Build == nil || svc.Build.Context != root || svc.Build.Dockerfile != a.dir+"/Dockerfile" {
				t.Errorf("build = %+v, want context %s (the repository) and dockerfile %s/Dockerfile", svc.Build, root, a.dir)
			}
			if _, err := os.Stat(filepath.Join(root, a.dir, "Dockerfile")); err != nil {
				t.Errorf("the image cannot be built: %v", err)
			}
			appPort := env(svc, "APP_PORT")
			if appPort != strconv.Itoa(a.port) {
				t.Errorf("APP_PORT = %q, want %d (conventions.md)", appPort, a.port)
			}
			published := slices.ContainsFunc(svc.Ports, func(p types.ServicePortConfig) bool {
				return strconv.Itoa(int(p.Target)) == appPort && p.Published == appPort
			})
			if !published {
				t.Errorf("port %s is not published: %+v", appPort, svc.Ports)
			}
			// A service that verifies bearer tokens (its config.go reads
			// AUTH_ISSUER, and requires it) verifies the devissuer
			// container's unless the caller names another issuer.
			if takesTokens(t, a.dir) {
				if got, want := env(svc, "AUTH_ISSUER"), envOr(project.Services["devissuer"], "ISSUER_URL", "(no devissuer service)"); got != want {
					t.Errorf("AUTH_ISSUER = %q, want %q, the devissuer service's ISSUER_URL: %s does not start without an issuer", got, want, a.id)
				}
			}
			// Reached at http://localhost:<port>, where browsers send a
			// Secure cookie over plain HTTP: nothing needs it off.
			if got := env(svc, "COOKIE_SECURE"); got != "" && got != "true" {
				t.Errorf("COOKIE_SECURE = %q, want it unset (true): the page is reached on localhost, where a Secure cookie works over HTTP", got)
			}

			var sidecars []types.ServiceConfig
			for _, s := range project.Services {
				if s.NetworkMode == "service:"+a.id {
					sidecars = append(sidecars, s)
				}
			}
			if len(sidecars) != 1 {
				t.Fatalf("want one service with network_mode service:%s (the sidecar), got %d", a.id, len(sidecars))
			}
			sidecar := sidecars[0]
			if sidecar.Image != "daprio/daprd:1.17.5" {
				t.Errorf("sidecar %s: image %q, want daprio/daprd:1.17.5", sidecar.Name, sidecar.Image)
			}
			// The app finds its sidecar on localhost (the namespace they
			// share) at DAPR_HTTP_PORT and DAPR_GRPC_PORT, 3500 and 50001
			// unless set (conventions.md); the sidecar speaks to the app as
			// dapr.yaml and the end-to-end harness do.
			args := flags(sidecar.Command)
			tmpl := readRunTemplate(t)
			want := map[string]string{
				"--app-id":              a.id,
				"--app-port":            appPort,
				"--app-protocol":        tmpl.Common.AppProtocol,
				"--app-max-concurrency": strconv.Itoa(tmpl.Common.AppMaxConcurrency),
				"--dapr-http-port":      envOr(svc, "DAPR_HTTP_PORT", "3500"),
				"--dapr-grpc-port":      envOr(svc, "DAPR_GRPC_PORT", "50001"),
			}
			got := map[string]string{}
			for flag := range want {
				got[flag] = args[flag]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("sidecar %s flags (-want +got):\n%s", sidecar.Name, diff)
			}
			// The sidecar's API on the app's loopback only, and the pair
			// trusting each other by the tokens from the environment.
			if got := args["--dapr-listen-addresses"]; got != "127.0.0.1" {
				t.Errorf("sidecar %s: --dapr-listen-addresses %q, want 127.0.0.1", sidecar.Name, got)
			}
			for name, value := range map[string]string{"APP_API_TOKEN": appToken, "DAPR_API_TOKEN": daprToken} {
				if env(svc, name) != value || env(sidecar, name) != value {
					t.Errorf("%s: %s is %q in the app and %q in its sidecar, want both from the environment", a.id, name, env(svc, name), env(sidecar, name))
				}
			}
			if d, ok := sidecar.DependsOn[a.id]; !ok || d.Condition != types.ServiceConditionStarted {
				t.Errorf("sidecar %s: depends_on %s = %+v, want condition service_started: it joins the app's network namespace", sidecar.Name, a.id, d)
			}
			if svc.HealthCheck != nil {
				t.Errorf("service %s overrides the image's HEALTHCHECK (%v); the image has no shell or curl, only its binary's probe", a.id, svc.HealthCheck.Test)
			}
			components := mountedAt(sidecar, args["--resources-path"])
			if components == nil || components.Source != filepath.Join(root, "components") || !components.ReadOnly {
				t.Errorf("sidecar %s: --resources-path %q is %+v, want ./components mounted read-only",
					sidecar.Name, args["--resources-path"], components)
			}
			if config := args["--config"]; config != args["--resources-path"]+"/config.yaml" {
				t.Errorf("sidecar %s: --config %q, want config.yaml from the components", sidecar.Name, config)
			}
			if got := env(sidecar, "REDIS_HOST"); got != "redis:6379" {
				t.Errorf("sidecar %s: REDIS_HOST = %q, want redis:6379 (the components read it)", sidecar.Name, got)
			}
			if _, ok := sidecar.DependsOn["redis"]; !ok {
				t.Errorf("sidecar %s does not depend on redis", sidecar.Name)
			}
			for _, c := range []types.ServiceConfig{svc, sidecar} {
				if got := env(c, "OTEL_EXPORTER_OTLP_ENDPOINT"); got != "http://jaeger:4317" {
					t.Errorf("%s: OTEL_EXPORTER_OTLP_ENDPOINT = %q, want http://jaeger:4317, the jaeger service", c.Name, got)
				}
			}
		})
	}
}

// takesTokens reports whether the service in dir reads AUTH_ISSUER (its
// config.go, where every variable is read).
func takesTokens(t *testing.T, dir string) bool {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", dir, "config.go"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(src, []byte(`"AUTH_ISSUER"`))
}

// The other styles' override files (deploy/compose/) put a coordinator in
// the trip service's place; the dispatch service reads the choreography's
// events, which they do not publish, so they leave it and its sidecar out
// (a profile of their own), and keep the rest.
func TestComposeStylesLeaveDispatchOut(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	overrides, err := filepath.Glob(filepath.Join(root, "deploy", "compose", "*.yml"))
	if err != nil || len(overrides) == 0 {
		t.Fatalf("no deploy/compose/*.yml (%v)", err)
	}
	vars := []string{"APP_API_TOKEN=compose-app-token-0123456789", "DAPR_API_TOKEN=compose-dapr-token-0123456789"}
	for _, override := range append([]string{""}, overrides...) {
		name := "docker-compose.yml"
		files := []string{filepath.Join(root, "docker-compose.yml")}
		if override != "" {
			name = filepath.Base(override)
			files = append(files, override)
		}
		t.Run(name, func(t *testing.T) {
			opts, err := cli.NewProjectOptions(files, cli.WithWorkingDirectory(root), cli.WithName("ride-choreography"), cli.WithEnv(vars))
			if err != nil {
				t.Fatal(err)
			}
			project, err := opts.LoadProject(context.Background())
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			for _, s := range []string{dispatchService, dispatchService + "-dapr"} {
				_, enabled := project.Services[s]
				if want := override == ""; enabled != want {
					t.Errorf("service %s runs: %t, want %t (only in the choreography)", s, enabled, want)
				}
			}
			for _, s := range []string{"trip", "trip-dapr", "driver", "driver-dapr", "notification", "notification-dapr", "redis"} {
				if _, ok := project.Services[s]; !ok {
					t.Errorf("service %s does not run", s)
				}
			}
		})
	}
}

// env returns the value of a service's environment variable, or "".
func env(s types.ServiceConfig, name string) string {
	return envOr(s, name, "")
}

// envOr returns the value of a service's environment variable, or def.
func envOr(s types.ServiceConfig, name, def string) string {
	if v := s.Environment[name]; v != nil {
		return *v
	}
	return def
}

// flags maps each --flag of a command to the argument after it.
func flags(command []string) map[string]string {
	m := map[string]string{}
	for i, arg := range command {
		if strings.HasPrefix(arg, "--") && i+1 < len(command) {
			m[arg] = command[i+1]
		}
	}
	return m
}

// mountedAt returns the volume a service mounts at target, or nil.
func mountedAt(s types.ServiceConfig, target string) *types.ServiceVolumeConfig {
	for _, v := range s.Volumes {
		if v.Target == target {
			return &v
		}
	}
	return nil
}

// runTemplate is the part of a Dapr multi-app run template (dapr.yaml) that
// this project uses. Decoding rejects any other key: the CLI silently
// ignores a misspelt one (appId for appID runs the app under a made-up id).
type runTemplate struct {
	Version int `yaml:"version"`
	Common  struct {
		APIListenAddresses string `yaml:"apiListenAddresses"`
		ResourcesPath      string `yaml:"resourcesPath"`
		ConfigFilePath     string `yaml:"configFilePath"`
		AppProtocol        string `yaml:"appProtocol"`
		AppMaxConcurrency  int    `yaml:"appMaxConcurrency"`
		LogLevel           string `yaml:"logLevel"`
	} `yaml:"common"`
	Apps []runApp `yaml:"apps"`
}

type runApp struct {
	AppID        string   `yaml:"appID"`
	AppDirPath   string   `yaml:"appDirPath"`
	AppPort      int      `yaml:"appPort"`
	DaprHTTPPort int      `yaml:"daprHTTPPort"`
	DaprGRPCPort int      `yaml:"daprGRPCPort"`
	MetricsPort  int      `yaml:"metricsPort"`
	Command      []string `yaml:"command"`
}

// readRunTemplate decodes dapr.yaml, refusing keys the template does not
// have.
func readRunTemplate(t *testing.T) runTemplate {
	t.Helper()
	tmpl, err := runTemplateFile()
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// runTemplateFile reads and decodes dapr.yaml once: the harness starts its
// sidecars with the template's settings (startSidecar).
var runTemplateFile = sync.OnceValues(func() (runTemplate, error) {
	var tmpl runTemplate
	b, err := os.ReadFile(filepath.Join("..", "dapr.yaml"))
	if err != nil {
		return tmpl, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&tmpl); err != nil {
		return tmpl, fmt.Errorf("dapr.yaml: %w", err)
	}
	return tmpl, nil
})

func TestDaprRunTemplateMatchesConventions(t *testing.T) {
	tmpl := readRunTemplate(t)
	if tmpl.Common.AppProtocol != "http" {
		t.Errorf("common: appProtocol = %q, want http: the services serve Dapr's subscriptions over HTTP", tmpl.Common.AppProtocol)
	}
	if tmpl.Common.AppMaxConcurrency != 1 {
		t.Errorf("common: appMaxConcurrency = %d, want 1: Dapr 1.17.5's HTTP app channel can take a failed delivery for a success when two run at once (daprrace_test.go)", tmpl.Common.AppMaxConcurrency)
	}
	if tmpl.Version != 1 {
		t.Errorf("version = %d, want 1", tmpl.Version)
	}
	if tmpl.Common.APIListenAddresses != "127.0.0.1" {
		t.Errorf("common: apiListenAddresses = %q, want 127.0.0.1: the sidecars' APIs on loopback only", tmpl.Common.APIListenAddresses)
	}
	for _, path := range []string{tmpl.Common.ResourcesPath, tmpl.Common.ConfigFilePath} {
		if path == "" {
			t.Errorf("common: resourcesPath and configFilePath must be set (no dapr init here): %+v", tmpl.Common)
		} else if _, err := os.Stat(filepath.Join("..", path)); err != nil {
			t.Errorf("common: %v", err)
		}
	}

	var want []runApp
	for _, a := range conventionApps(t) {
		want = append(want, runApp{AppID: a.id, AppDirPath: a.dir, AppPort: a.port, Command: []string{"go", "run", "."}})
	}
	got := slices.Clone(tmpl.Apps)
	ports := map[int]string{}
	for i, a := range got {
		for _, p := range []int{a.AppPort, a.DaprHTTPPort, a.DaprGRPCPort, a.MetricsPort} {
			if other, taken := ports[p]; taken || p == 0 {
				t.Errorf("app %s: port %d is unset or also used by %s", a.AppID, p, other)
			}
			ports[p] = a.AppID
		}
		got[i].DaprHTTPPort, got[i].DaprGRPCPort, got[i].MetricsPort = 0, 0, 0 // checked above
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dapr.yaml apps (-want +got):\n%s", diff)
	}
}

// make run (scripts/run.sh) starts what dapr.yaml names on fixed ports, so
// before it starts anything it checks that every one of them is free, and
// it waits for every app's /readyz; a port added to dapr.yaml and not to
// the script would fail late and unclearly. It also tells the user how to
// reach the dispatchers' page.
func TestRunScriptKnowsEveryPortOfTheTemplate(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "scripts", "run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z_]+_port)=([0-9]+)$`).FindAllStringSubmatch(script, -1) {
		vars[m[1]] = m[2]
	}
	// listed reads the words of every NAME=(...) and NAME+=(...) line.
	listed := func(name string) map[int]bool {
		set := map[int]bool{}
		for _, m := range regexp.MustCompile(`(?m)^\s*`+name+`\+?=\((.*)\)$`).FindAllStringSubmatch(script, -1) {
			for _, w := range strings.Fields(m[1]) {
				w = strings.Trim(w, `"`)
				if v, ok := vars[strings.TrimPrefix(w, "$")]; ok {
					w = v
				}
				if n, err := strconv.Atoi(w); err == nil {
					set[n] = true
				}
			}
		}
		if len(set) == 0 {
			t.Fatalf("scripts/run.sh has no %s=(...) list", name)
		}
		return set
	}
	checked, ready := listed("ports"), listed("app_ports")
	for _, a := range readRunTemplate(t).Apps {
		for _, p := range []int{a.AppPort, a.DaprHTTPPort, a.DaprGRPCPort, a.MetricsPort} {
			if !checked[p] {
				t.Errorf("dapr.yaml gives %s port %d, which scripts/run.sh does not check is free before it starts", a.AppID, p)
			}
		}
		if !ready[a.AppPort] {
			t.Errorf("scripts/run.sh does not wait for %s's /readyz on %d (app_ports)", a.AppID, a.AppPort)
		}
	}
	printed := strings.NewReplacer("$issuer_port", vars["issuer_port"], "$dispatch_port", vars["dispatch_port"]).Replace(script)
	for _, says := range []string{
		"http://localhost:8083",
		`curl -s 'http://localhost:8090/token?sub=dispatcher-1&role=dispatcher'`,
		"paste it at http://localhost:8083/signin",
	} {
		if !strings.Contains(printed, says) {
			t.Errorf("scripts/run.sh does not print %q", says)
		}
	}
}

// The sidecars find Redis at a different address in each way of running
// (localhost for make run and dapr run -f, the redis container under
// compose, a free port in these tests), and all of them load the same
// component files. So no component may name the address; each reads it from
// REDIS_HOST, which whoever starts the sidecar sets.
func TestComponentsTakeRedisFromTheEnvironment(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "components", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
			Spec struct {
				Metadata []struct {
					Name   string `yaml:"name"`
					Value  any    `yaml:"value"`
					EnvRef string `yaml:"envRef"`
				} `yaml:"metadata"`
			} `yaml:"spec"`
		}
		if err := yaml.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, m := range c.Spec.Metadata {
			if c.Kind != "Component" || m.Name != "redisHost" {
				continue
			}
			checked++
			if m.EnvRef != "REDIS_HOST" || m.Value != nil {
				t.Errorf("component %s (%s): redisHost is value %v, envRef %q; want envRef REDIS_HOST and no value",
					c.Metadata.Name, filepath.Base(f), m.Value, m.EnvRef)
			}
		}
	}
	if checked == 0 {
		t.Errorf("no component in ../components names a redisHost")
	}
}

// Under docker compose the Redis password comes from the caller's
// environment, and one variable sets it for Redis and for every sidecar,
// whose components read it through the secret store: unset, Redis has
// none and the sidecars send none.
func TestComposeHandsTheRedisPasswordToRedisAndTheSidecars(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for name, password := range map[string]string{"unset": "", "set": "compose-redis-password-0123"} {
		t.Run(name, func(t *testing.T) {
			vars := []string{"APP_API_TOKEN=compose-app-token-0123456789", "DAPR_API_TOKEN=compose-dapr-token-0123456789"}
			if password != "" {
				vars = append(vars, "REDIS_PASSWORD="+password)
			}
			opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
				cli.WithWorkingDirectory(root), cli.WithName("ride-choreography"), cli.WithEnv(vars))
			if err != nil {
				t.Fatal(err)
			}
			project, err := opts.LoadProject(context.Background())
			if err != nil {
				t.Fatalf("load docker-compose.yml: %v", err)
			}
			redis := project.Services["redis"]
			if i := slices.Index(redis.Command, "--requirepass"); i < 0 || i+1 >= len(redis.Command) || redis.Command[i+1] != password {
				t.Errorf("redis: command %q, want --requirepass %q", redis.Command, password)
			}
			if got := env(redis, "REDISCLI_AUTH"); got != password {
				t.Errorf("redis: REDISCLI_AUTH (its health check's) is %q, want %q", got, password)
			}
			sidecars := 0
			for _, s := range project.Services {
				if !strings.HasPrefix(s.NetworkMode, "service:") {
					continue
				}
				sidecars++
				if got := env(s, "REDIS_PASSWORD"); got != password {
					t.Errorf("sidecar %s: REDIS_PASSWORD %q, want %q", s.Name, got, password)
				}
			}
			if sidecars == 0 {
				t.Error("no sidecar found")
			}
		})
	}
}
