package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The backlog signal: the backlog exporter (../backlog) reads, from
// outside the services, how many events wait for each subscription on the
// broker, as KEDA reads a Service Bus subscription's message count in the
// Azure deployment.

// subscriptions are the consumer groups the sidecars make on Redis: per
// topic, the app ids subscribed to it (docs/conventions.md).
var subscriptions = map[string][]string{
	"trip-created":     {"driver", "notification", "trip"},
	"driver-assigned":  {"notification", "trip"},
	"driver-not-found": {"notification", "trip"},
}

// waiting is what waits for one subscription: the exporter's
// ride_backlog_lag and ride_backlog_pending for it.
type waiting struct{ lag, pending float64 }

// backlogView is one scrape of the backlog exporter, by "topic/app".
type backlogView struct {
	up     float64
	groups map[string]waiting
}

func (v backlogView) String() string {
	var parts []string
	for _, key := range slices.Sorted(maps.Keys(v.groups)) {
		parts = append(parts, fmt.Sprintf("%s lag %v pending %v", key, v.groups[key].lag, v.groups[key].pending))
	}
	return fmt.Sprintf("up %v; %s", v.up, strings.Join(parts, "; "))
}

// readBacklog scrapes the backlog exporter.
func (s *system) readBacklog(t *testing.T) backlogView {
	t.Helper()
	v := backlogView{up: -1, groups: map[string]waiting{}}
	for key, value := range scrapeURL(t, "backlog", s.backlogURL()+"/metrics") {
		name, labelText, _ := strings.Cut(key, "{")
		if name == "ride_backlog_up" {
			v.up = value
			continue
		}
		if name != "ride_backlog_lag" && name != "ride_backlog_pending" {
			continue
		}
		labels := map[string]string{}
		for pair := range strings.SplitSeq(strings.TrimSuffix(labelText, "}"), ",") {
			k, quoted, _ := strings.Cut(pair, "=")
			value, err := strconv.Unquote(quoted)
			if err != nil {
				t.Fatalf("backlog series %s: unreadable label %q", key, pair)
			}
			labels[k] = value
		}
		group := labels["topic"] + "/" + labels["app"]
		w := v.groups[group]
		if name == "ride_backlog_lag" {
			w.lag = value
		} else {
			w.pending = value
		}
		v.groups[group] = w
	}
	return v
}

// expectBacklog is every subscription with nothing waiting, but for those
// in except.
func expectBacklog(except map[string]waiting) backlogView {
	v := backlogView{up: 1, groups: map[string]waiting{}}
	for topic, apps := range subscriptions {
		for _, app := range apps {
			v.groups[topic+"/"+app] = except[topic+"/"+app]
		}
	}
	return v
}

// awaitBacklog waits until the exporter shows exactly want, every
// subscription and nothing else, and returns how long that took.
func (s *system) awaitBacklog(t *testing.T, timeout time.Duration, what string, want backlogView) time.Duration {
	t.Helper()
	start := time.Now()
	eventually(t, timeout, what, func() (bool, string) {
		got := s.readBacklog(t)
		return got.up == want.up && maps.Equal(got.groups, want.groups), fmt.Sprintf("%s; want %s", got, want)
	})
	return time.Since(start)
}

// The driver service is stopped and trips are ordered: the exporter shows
// the driver's subscription to trip-created growing by exactly the trips
// ordered while every other subscription drains to zero, and, once the
// driver is back, the backlog draining to zero and every trip completing.
// Twice: with the driver's sidecar still running, which takes the events
// from the broker and cannot hand them on (pending); and with the sidecar
// stopped too, as a replica scaled to zero, so that nobody takes them (lag).
func TestBacklogShowsWhatWaitsForAStoppedConsumer(t *testing.T) {
	const n = 20 // trips per phase
	s := startSystem(t, shortRides, withBacklogExporter())
	drv := s.app("driver")
	const driverSub = "trip-created/driver"
	idle := expectBacklog(nil)
	s.awaitBacklog(t, 30*time.Second, "every subscription to exist, with nothing waiting", idle)

	var lines []string
	var orders []order
	for _, phase := range []struct {
		name        string
		stopSidecar bool
		want        waiting
	}{
		{name: "driver service stopped, its sidecar running", want: waiting{pending: n}},
		{name: "driver service and its sidecar stopped", stopSidecar: true, want: waiting{lag: n}},
	} {
		s.stopService(t, drv, syscall.SIGTERM)
		if phase.stopSidecar {
			s.stopSidecar(t, drv, syscall.SIGTERM)
		}
		ordered := s.orderAll(n, 8)
		requireAccepted(t, ordered)
		orders = append(orders, ordered...)
		grown := s.awaitBacklog(t, 30*time.Second, phase.name+": the driver's backlog at exactly the trips ordered, every other one empty",
			expectBacklog(map[string]waiting{driverSub: phase.want}))
		if v := s.readBacklog(t); v.groups[driverSub] != phase.want {
			t.Fatalf("%s: a second scrape shows %s, want %s lag %v pending %v", phase.name, v, driverSub, phase.want.lag, phase.want.pending)
		}

		s.startApp(t, drv)
		drained := s.awaitBacklog(t, time.Minute, phase.name+": the backlog drained once the driver is back", idle)
		lines = append(lines, fmt.Sprintf("%s: %d trips ordered, %s lag %v pending %v (%s after the last order was accepted), every other subscription 0; drained to 0 %s after the driver was ready again",
			phase.name, n, driverSub, phase.want.lag, phase.want.pending, grown.Round(10*time.Millisecond), drained.Round(10*time.Millisecond)))
	}

	f := s.tally(t, orders, 2*time.Minute)
	report(t, "%s; %s", strings.Join(lines, "; "), f)
	f.check(t)
	if f.assigned != f.ordered {
		t.Errorf("%d of %d trips got a driver, want all: drivers come back after RIDE_DURATION and the deadline is 2m", f.assigned, f.ordered)
	}
}
