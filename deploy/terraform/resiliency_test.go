package terraform

// Checks of the Dapr component resiliency policies in resiliency/, which
// azurerm cannot create: `az containerapp env dapr-component resiliency
// create --yaml` applies them after terraform apply (output
// post_apply_commands). Nothing else reads these files before Azure does, so
// this test holds them to the schema that command sends, to the components
// of this configuration, and to the time the services need.

import (
	"bytes"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"
)

// resiliencyPolicy is the YAML the CLI reads: the properties of a
// Microsoft.App/managedEnvironments/daprComponents/resiliencyPolicies
// resource (API 2024-08-02-preview and later), inboundPolicy and
// outboundPolicy at the top (the CLI's own tests write it so). Parsed
// strictly: a misspelt key would be dropped by the CLI without a word.
type resiliencyPolicy struct {
	InboundPolicy  *resiliencyDirection `yaml:"inboundPolicy"`
	OutboundPolicy *resiliencyDirection `yaml:"outboundPolicy"`
}

type resiliencyDirection struct {
	TimeoutPolicy *struct {
		ResponseTimeoutInSeconds int `yaml:"responseTimeoutInSeconds"`
	} `yaml:"timeoutPolicy"`
	HTTPRetryPolicy *struct {
		MaxRetries   int `yaml:"maxRetries"`
		RetryBackOff struct {
			InitialDelayInMilliseconds int `yaml:"initialDelayInMilliseconds"`
			MaxIntervalInMilliseconds  int `yaml:"maxIntervalInMilliseconds"`
		} `yaml:"retryBackOff"`
	} `yaml:"httpRetryPolicy"`
	CircuitBreakerPolicy *struct {
		ConsecutiveErrors int `yaml:"consecutiveErrors"`
		IntervalInSeconds int `yaml:"intervalInSeconds"`
		TimeoutInSeconds  int `yaml:"timeoutInSeconds"`
	} `yaml:"circuitBreakerPolicy"`
}

// Dapr's exponential backoff (dapr/kit retry on cenkalti/backoff v4): each
// delay is the current interval randomized by +-50 %, the interval grows by
// 1.5 per retry up to the maximum, and retrying stops once 15 minutes have
// passed. Its first interval is 500 ms unless set.
const (
	backoffMultiplier    = 1.5
	backoffRandomization = 0.5
	backoffDefaultFirst  = 500 * time.Millisecond
	backoffMaxElapsed    = 15 * time.Minute
)

// exponentialDelays returns the shortest and longest sum of the delays of
// maxRetries retries of Dapr's exponential backoff.
func exponentialDelays(maxRetries int, first, maxInterval time.Duration) (lo, hi time.Duration) {
	var sum float64
	cur := float64(first)
	for range maxRetries {
		sum += cur
		cur = math.Min(cur*backoffMultiplier, float64(maxInterval))
	}
	return time.Duration(sum * (1 - backoffRandomization)), time.Duration(sum * (1 + backoffRandomization))
}

// retryWindow returns the shortest and longest time from a delivery's first
// attempt to its last under an httpRetryPolicy. How Container Apps maps the
// policy onto Dapr's retry settings is not documented, so this takes the
// extremes of the readings the field descriptions allow: exponential from
// initialDelay up to maxInterval; exponential from Dapr's default first
// interval (a Dapr Resiliency resource has no field for the first one); and
// a constant initialDelay. The longest adds a full timeout per attempt.
func retryWindow(maxRetries int, initial, maxInterval, attemptTimeout time.Duration) (lo, hi time.Duration) {
	lo1, hi1 := exponentialDelays(maxRetries, initial, maxInterval)
	lo2, hi2 := exponentialDelays(maxRetries, backoffDefaultFirst, maxInterval)
	constant := time.Duration(maxRetries) * initial
	lo = min(lo1, lo2, constant, backoffMaxElapsed)
	hi = max(hi1, hi2, constant) + time.Duration(maxRetries+1)*attemptTimeout
	return lo, hi
}

// readResiliency reads resiliency/*.yaml, keyed "resiliency/<file>" (the
// paths local.resiliency_policies uses).
func readResiliency(dir string) (map[string][]byte, error) {
	return readFiles(filepath.Join(dir, "resiliency"), "*.yaml", "resiliency/")
}

// checkResiliency returns every problem with the resiliency policies.
func checkResiliency(cfg *config, files map[string][]byte) []string {
	var p problems

	policies := map[string]string{} // component -> file
	v, ok := cfg.Locals["resiliency_policies"]
	if !ok || !v.IsWhollyKnown() || v.IsNull() || !v.CanIterateElements() {
		p.add("local.resiliency_policies is missing or not a known map of component => file")
		return p
	}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.Type() != cty.String {
			p.add("local.resiliency_policies[%q] is not a file name", k.AsString())
			continue
		}
		policies[k.AsString()] = e.AsString()
	}

	// The commands that apply them.
	if refs, ok := cfg.Outputs["post_apply_commands"]; !ok || !slices.Contains(refs, "local.resiliency_policies") {
		p.add("no output post_apply_commands built from local.resiliency_policies: nothing tells the user how to apply resiliency/")
	}

	// Every file is applied; every policy names a component and a file.
	used := map[string]bool{}
	parsed := map[string]resiliencyPolicy{}
	for _, component := range sortedKeys(policies) {
		file := policies[component]
		used[file] = true
		if componentNamed(cfg, component) == nil {
			p.add("local.resiliency_policies: %q is not a Dapr component of this configuration", component)
		}
		raw, ok := files[file]
		if !ok {
			p.add("local.resiliency_policies[%q]: %s does not exist", component, file)
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		var pol resiliencyPolicy
		if err := dec.Decode(&pol); err != nil {
			p.add("%s: %v", file, err)
			continue
		}
		if pol.InboundPolicy == nil && pol.OutboundPolicy == nil {
			p.add("%s: neither inboundPolicy nor outboundPolicy", file)
		}
		for dir, d := range map[string]*resiliencyDirection{"inboundPolicy": pol.InboundPolicy, "outboundPolicy": pol.OutboundPolicy} {
			if d != nil {
				checkDirection(&p, file+" "+dir, d)
			}
		}
		if pol.InboundPolicy != nil && pol.InboundPolicy.CircuitBreakerPolicy != nil {
			p.add("%s: inboundPolicy has a circuit breaker; an open breaker fails deliveries, and each failed delivery is dead-lettered", file)
		}
		parsed[component] = pol
	}
	for _, f := range sortedKeys(files) {
		if !used[f] {
			p.add("%s is not in local.resiliency_policies, so post_apply_commands never applies it", f)
		}
	}

	// The broker's inbound policy: long enough for the driver's deadline,
	// shorter than the handler timeout.
	pol, ok := parsed["pubsub"]
	if !ok || pol.InboundPolicy == nil || pol.InboundPolicy.HTTPRetryPolicy == nil || pol.InboundPolicy.TimeoutPolicy == nil {
		p.add("pubsub has no resiliency policy with an inbound httpRetryPolicy and timeoutPolicy: a RETRY answer would dead-letter the event at the first attempt")
		return p
	}
	in := pol.InboundPolicy
	lo, hi := retryWindow(in.HTTPRetryPolicy.MaxRetries,
		time.Duration(in.HTTPRetryPolicy.RetryBackOff.InitialDelayInMilliseconds)*time.Millisecond,
		time.Duration(in.HTTPRetryPolicy.RetryBackOff.MaxIntervalInMilliseconds)*time.Millisecond,
		time.Duration(in.TimeoutPolicy.ResponseTimeoutInSeconds)*time.Second)

	deadline, found := time.Duration(0), false
	for _, app := range cfg.of(appType) {
		for _, ctr := range app.Body.child("template").children("container") {
			for _, e := range ctr.children("env") {
				if name, _ := e.str("name"); name != "ASSIGN_DEADLINE" {
					continue
				}
				val, _ := e.str("value")
				d, err := time.ParseDuration(val)
				if err != nil {
					p.add("%s: ASSIGN_DEADLINE %q is not a duration", app.Addr(), val)
					continue
				}
				deadline, found = max(deadline, d), true
			}
		}
	}
	if !found {
		p.add("no container app sets ASSIGN_DEADLINE; the inbound retry window of pubsub must cover it")
	} else if lo < deadline {
		p.add("pubsub inbound retry window can be as short as %v, shorter than the driver's ASSIGN_DEADLINE %v: a trip waiting for a free driver is dead-lettered before the driver answers driver-not-found", lo, deadline)
	}

	meta := metadata(componentNamed(cfg, "pubsub"))
	ht, err := strconv.Atoi(meta["handlerTimeoutInSec"])
	if err != nil {
		p.add("pubsub: handlerTimeoutInSec %q is not a number of seconds (the default, 60, is shorter than the retry window)", meta["handlerTimeoutInSec"])
	} else if time.Duration(ht)*time.Second <= hi {
		p.add("pubsub: handlerTimeoutInSec %d is not longer than the inbound retry window (up to %v): the dead-letter publish at its end would fail and Service Bus redeliver", ht, hi)
	}
	return p
}

// checkDirection checks one direction's values as the CLI's flags are
// checked (every number at least 1) plus what makes a retry policy sane.
func checkDirection(p *problems, what string, d *resiliencyDirection) {
	positive := func(name string, v int) {
		if v < 1 {
			p.add("%s: %s is %d, want at least 1", what, name, v)
		}
	}
	if t := d.TimeoutPolicy; t != nil {
		positive("timeoutPolicy.responseTimeoutInSeconds", t.ResponseTimeoutInSeconds)
	}
	if r := d.HTTPRetryPolicy; r != nil {
		// At least 1 also means bounded: whether Container Apps accepts -1
		// (Dapr's "forever") is not documented.
		positive("httpRetryPolicy.maxRetries", r.MaxRetries)
		positive("httpRetryPolicy.retryBackOff.initialDelayInMilliseconds", r.RetryBackOff.InitialDelayInMilliseconds)
		positive("httpRetryPolicy.retryBackOff.maxIntervalInMilliseconds", r.RetryBackOff.MaxIntervalInMilliseconds)
		if r.RetryBackOff.MaxIntervalInMilliseconds < r.RetryBackOff.InitialDelayInMilliseconds {
			p.add("%s: maxIntervalInMilliseconds %d is below initialDelayInMilliseconds %d", what, r.RetryBackOff.MaxIntervalInMilliseconds, r.RetryBackOff.InitialDelayInMilliseconds)
		}
	}
	if c := d.CircuitBreakerPolicy; c != nil {
		positive("circuitBreakerPolicy.consecutiveErrors", c.ConsecutiveErrors)
		positive("circuitBreakerPolicy.timeoutInSeconds", c.TimeoutInSeconds)
	}
}

func TestResiliencyPolicies(t *testing.T) {
	cfg := loadHere(t, nil)
	res, err := readResiliency(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 {
		t.Fatal("no resiliency/*.yaml")
	}
	if got := checkResiliency(cfg, res); len(got) > 0 {
		t.Errorf("deploy/terraform/resiliency does not hold:\n  %s", strings.Join(got, "\n  "))
	}
}

// TestRetryWindow pins the backoff arithmetic the check relies on.
func TestRetryWindow(t *testing.T) {
	// Exponential from 1 s: 1, 1.5, 2.25, 3.375, then 5 s each.
	lo, hi := exponentialDelays(6, time.Second, 5*time.Second)
	if want := time.Duration(8.125e9 + 10e9); lo != want/2 || hi != want*3/2 {
		t.Errorf("exponentialDelays(6, 1s, 5s) = %v, %v; want %v, %v", lo, hi, want/2, want*3/2)
	}
	// 10 retries of at most 2 s: the shortest reading is exponential from
	// Dapr's default 500 ms (0.5, 0.75, 1.125, 1.6875, then 2 s: 16.0625 s)
	// halved by randomization; the longest is 20 s from 2 s, raised by half,
	// plus 11 timeouts.
	lo, hi = retryWindow(10, 2*time.Second, 2*time.Second, time.Second)
	if lo != 8031250*time.Microsecond || hi != 30*time.Second+11*time.Second {
		t.Errorf("retryWindow(10, 2s, 2s, 1s) = %v, %v; want 8.03125s, 41s", lo, hi)
	}
	// Dapr gives up exponential retries after 15 minutes.
	if lo, _ := retryWindow(10000, time.Second, 5*time.Second, 0); lo != backoffMaxElapsed {
		t.Errorf("retryWindow of 10000 retries is at least %v; Dapr stops at %v", lo, backoffMaxElapsed)
	}
}

// TestResiliencyChecksCatchMistakes breaks a copy of the configuration or of
// a policy file in one place at a time and expects checkResiliency to say so.
func TestResiliencyChecksCatchMistakes(t *testing.T) {
	files, err := readDir(".")
	if err != nil {
		t.Fatal(err)
	}
	res, err := readResiliency(".")
	if err != nil {
		t.Fatal(err)
	}
	const policy = "resiliency/pubsub.yaml"
	tests := []struct {
		name, file, old, new, want string
	}{
		{
			name: "retry window shorter than the driver's deadline", file: policy,
			old: "maxRetries: 70", new: "maxRetries: 10",
			want: "shorter than the driver's ASSIGN_DEADLINE",
		},
		{
			name: "deadline raised past the retry window", file: "locals.tf",
			old: `ASSIGN_DEADLINE = "60s"`, new: `ASSIGN_DEADLINE = "5m"`,
			want: "shorter than the driver's ASSIGN_DEADLINE 5m0s",
		},
		{
			name: "unbounded retries", file: policy,
			old: "maxRetries: 70", new: "maxRetries: -1",
			want: "httpRetryPolicy.maxRetries is -1",
		},
		{
			name: "misspelt key", file: policy,
			old: "inboundPolicy:", new: "inboundPolicies:",
			want: "field inboundPolicies not found",
		},
		{
			name: "misspelt nested key", file: policy,
			old: "responseTimeoutInSeconds: 10", new: "responseTimeoutInSecond: 10",
			want: "field responseTimeoutInSecond not found",
		},
		{
			name: "backoff that shrinks", file: policy,
			old: "initialDelayInMilliseconds: 1000", new: "initialDelayInMilliseconds: 9000",
			want: "is below initialDelayInMilliseconds 9000",
		},
		{
			name: "inbound circuit breaker", file: policy,
			old: "inboundPolicy:\n", new: "inboundPolicy:\n  circuitBreakerPolicy:\n    consecutiveErrors: 5\n    timeoutInSeconds: 10\n",
			want: "inboundPolicy has a circuit breaker",
		},
		{
			name: "policy for a component that does not exist", file: "dapr.tf",
			old: `pubsub = "resiliency/pubsub.yaml"`, new: `pub-sub = "resiliency/pubsub.yaml"`,
			want: `"pub-sub" is not a Dapr component`,
		},
		{
			name: "broker without an inbound policy", file: "dapr.tf",
			old: `pubsub = "resiliency/pubsub.yaml"`, new: `trip-store = "resiliency/pubsub.yaml"`,
			want: "pubsub has no resiliency policy",
		},
		{
			name: "policy file that does not exist", file: "dapr.tf",
			old: `pubsub = "resiliency/pubsub.yaml"`, new: `pubsub = "resiliency/pubsub.yml"`,
			want: "resiliency/pubsub.yml does not exist",
		},
		{
			name: "policy file nobody applies", file: "dapr.tf",
			old: `pubsub = "resiliency/pubsub.yaml"`, new: `pubsub = "resiliency/pubsub.yml"`,
			want: "resiliency/pubsub.yaml is not in local.resiliency_policies",
		},
		{
			name: "no commands to apply the policies", file: "outputs.tf",
			old: `for component, file in local.resiliency_policies :`, new: `for component, file in {} :`,
			want: "no output post_apply_commands",
		},
		{
			name: "handler timeout shorter than the retry window", file: "locals.tf",
			old: `servicebus_handler_timeout_in_sec = 1800`, new: `servicebus_handler_timeout_in_sec = 60`,
			want: "handlerTimeoutInSec 60 is not longer than the inbound retry window",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tfs, yamls := clone(files), clone(res)
			target := tfs
			if strings.HasSuffix(tt.file, ".yaml") {
				target = yamls
			}
			src := string(target[tt.file])
			if n := strings.Count(src, tt.old); n != 1 {
				t.Fatalf("%s contains %q %d times, want once: update this case", tt.file, tt.old, n)
			}
			target[tt.file] = []byte(strings.Replace(src, tt.old, tt.new, 1))
			cfg, err := load(tfs)
			if err != nil {
				t.Fatalf("evaluating the mutated configuration: %v", err)
			}
			wantProblem(t, checkResiliency(cfg, yamls), tt.want)
		})
	}
}

func clone(m map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
