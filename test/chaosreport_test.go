//go:build chaos

package e2e

import (
	"bufio"
	"cmp"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// What the soak counts once it stops injecting: every trip judged as the
// failure suite judges it, what each fault cost, and every trip lost or
// duplicated named with the faults around it and what the logs say.

// faultsNow returns a copy of every fault injected so far.
func (c *chaos) faultsNow() []fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]fault, len(c.faults))
	for i, f := range c.faults {
		out[i] = *f
	}
	return out
}

// printFaults lists every fault injected, with its times.
func (c *chaos) printFaults() {
	faults := c.faultsNow()
	fmt.Fprintf(c.out, "chaos: faults injected (seed %d): %d\n", c.cfg.seed, len(faults))
	for _, f := range faults {
		end := "still going"
		if !f.ended.IsZero() {
			end = fmt.Sprintf("back at +%s after %s", offset(f.ended.Sub(c.start)), f.ended.Sub(f.started).Round(100*time.Millisecond))
		}
		fmt.Fprintf(c.out, "chaos:   #%-3d %s (+%s)  %-58s %s%s\n", f.n, f.started.UTC().Format("15:04:05.000"),
			offset(f.started.Sub(c.start)), f.describe(), end, restoreNote(&f))
	}
}

// settle waits until every order is judged, and reports.
func (c *chaos) settle(t *testing.T) {
	s := c.sys
	c.hogs.Wait()
	c.reviveCrashed(t)
	orders, attempts := c.load.snapshot()
	// The tests' own client (tally's) reads each trip with its rider's
	// token: tell it whose each trip is.
	riders.mu.Lock()
	for _, o := range orders {
		if o.tripID != "" {
			riders.tripRiders[o.tripID] = o.riderID
		}
	}
	riders.mu.Unlock()
	settling := time.Now()
	s.awaitQuiet(t, chaosQuietWithin)
	c.say("broker quiet %s after the last order was answered; judging %d orders", time.Since(settling).Round(100*time.Millisecond), len(orders))

	// A trip the trip service does not know is lost; tally, which reads
	// every trip, would stop at it, so it is judged here.
	var judged []order
	var unanswered []*chaosOrder
	var unknownTrips []judgedTrip
	for _, o := range orders {
		if o.tripID == "" {
			unanswered = append(unanswered, o)
		}
		if o.last.status == 0 && o.tripID == "" {
			continue // never answered at all: nothing tally can judge
		}
		if o.tripID != "" {
			if r := do(t, http.MethodGet, s.url("trip", "/trips/"+o.tripID), ""); r.status != http.StatusOK {
				unknownTrips = append(unknownTrips, judgedTrip{o.tripID, o.riderID, "lost",
					[]string{"GET /trips/" + o.tripID + " answered " + r.String()}})
				continue
			}
		}
		judged = append(judged, order{riderID: o.riderID, status: o.last.status, tripID: o.tripID,
			problem: o.last.problem, unknown: o.last.unknown, answer: o.last.answer})
	}
	f := s.tally(t, judged, chaosQuietWithin)
	f.ordered += len(unknownTrips)
	f.lost += len(unknownTrips)
	f.judged = append(f.judged, unknownTrips...)
	// Every outcome, for the latencies.
	c.lookAll(&http.Client{Timeout: 10 * time.Second, Transport: c.load.client.Transport}, time.Now(), 0)

	faults := c.faultsNow()
	c.reported = true
	costs := c.costs(faults, orders, attempts)
	evidence := c.evidence(t, faults)
	c.printFaults()
	c.printCosts(faults, costs)
	c.printTrips(orders, attempts, f)
	c.printEvidence(evidence)
	c.printJudged(t, f, faults, orders, evidence)

	crashes := 0
	for _, fl := range faults {
		if fl.kind == faultCrash {
			crashes++
		}
	}
	lat := latencies(orders, nil)
	report(t, "seed %d, %s at %.4g trips/s, faults %d (%s): %s; POSTs %d (failed and sent again %d); order to outcome p50 %s, p99 %s, max %s; unplanned exits %d; never answered 202 %d",
		c.cfg.seed, c.cfg.duration, c.cfg.rate, len(faults), kindCounts(faults), f, len(attempts), len(attempts)-len(orders)+len(unanswered),
		pct(lat, 50), pct(lat, 99), pct(lat, 100), crashes, len(unanswered))
	f.check(t)
	if crashes > 0 {
		t.Errorf("%d processes of the system exited by themselves (listed above as unplanned-exit)", crashes)
	}
	for i, o := range unanswered {
		if i == 10 {
			t.Errorf("... and %d more orders never answered 202", len(unanswered)-i)
			break
		}
		t.Errorf("order %d of %s was never answered 202 in %d attempts, %s after the last order; last answer: %s",
			o.n, o.riderID, o.attempts, chaosAnswerGrace, o.last.answer)
	}
}

// kindCounts is "kill-service 3, pause 2, ...".
func kindCounts(faults []fault) string {
	n := map[string]int{}
	for _, f := range faults {
		n[f.kind]++
	}
	var parts []string
	for _, k := range append(chaosKindNames(), faultCrash) {
		if n[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func chaosKindNames() []string {
	var names []string
	for _, k := range chaosKinds {
		names = append(names, k.name)
	}
	return names
}

// cost is what one fault cost.
type cost struct {
	// blocked: from the fault's start until an order sent after it was
	// answered 202 (the client's wait for a working Trip API).
	blocked time.Duration
	// failed: POSTs answered otherwise, or not at all, and sent again.
	failed int
	// delayed: trips whose order took longer than chaosDelayed to be told
	// its outcome; maxDelay is the longest.
	delayed  int
	maxDelay time.Duration
	// drained: from the fault's end until the last trip it delayed was told
	// its outcome.
	drained time.Duration
	// lost: trips never told their outcome, ordered while it went on (or
	// after it, before the next).
	lost int
}

// costs charges every delayed trip and every failed POST to the faults
// going on during its life; one that met none is charged to the fault that
// ended last before it (its backlog).
func (c *chaos) costs(faults []fault, orders []*chaosOrder, attempts []attempt) []cost {
	costs := make([]cost, len(faults))
	end := time.Now()
	charge := func(from, to time.Time) []int {
		var hit []int
		last := -1
		for i, f := range faults {
			fEnd := f.ended
			if fEnd.IsZero() {
				fEnd = end
			}
			if !f.started.After(to) && !fEnd.Before(from) {
				hit = append(hit, i)
			}
			if !fEnd.After(from) && (last < 0 || fEnd.After(faults[last].ended)) {
				last = i
			}
		}
		if len(hit) == 0 && last >= 0 {
			hit = []int{last}
		}
		return hit
	}
	for _, a := range attempts {
		if a.accepted() {
			continue
		}
		for _, i := range charge(a.sent, a.answered) {
			costs[i].failed++
		}
	}
	c.load.mu.Lock()
	defer c.load.mu.Unlock()
	for _, o := range orders {
		if o.tripID == "" {
			continue
		}
		if o.outcomeAt.IsZero() {
			for _, i := range charge(o.firstSent, o.firstSent) {
				costs[i].lost++
			}
			continue
		}
		done := o.outcomeAt
		delay := done.Sub(o.firstSent)
		if delay <= chaosDelayed {
			continue
		}
		for _, i := range charge(o.firstSent, done) {
			costs[i].delayed++
			costs[i].maxDelay = max(costs[i].maxDelay, delay)
			if !faults[i].ended.IsZero() {
				costs[i].drained = max(costs[i].drained, done.Sub(faults[i].ended))
			}
		}
	}
	for i, f := range faults {
		costs[i].blocked = -1
		for _, a := range attempts {
			if a.accepted() && !a.sent.Before(f.started) && (costs[i].blocked < 0 || a.answered.Sub(f.started) < costs[i].blocked) {
				costs[i].blocked = a.answered.Sub(f.started)
			}
		}
	}
	return costs
}

// printCosts prints each fault's cost, then the costs by kind.
func (c *chaos) printCosts(faults []fault, costs []cost) {
	fmt.Fprintf(c.out, "chaos: what each fault cost (delayed: told the outcome more than %s after the first POST; drained: from the target's return until the last trip it delayed was told; lost: never told, ordered while it went on)\n", chaosDelayed)
	fmt.Fprintf(c.out, "chaos:   %-4s %-58s %9s %8s %8s %9s %9s %9s %6s\n", "#", "fault", "back in", "blocked", "failed", "delayed", "max delay", "drained", "lost")
	for i, f := range faults {
		co := costs[i]
		fmt.Fprintf(c.out, "chaos:   %-4d %-58s %9s %8s %8d %9d %9s %9s %6d\n", f.n, f.describe(), dur(f.ended.Sub(f.started)),
			dur(co.blocked), co.failed, co.delayed, dur(co.maxDelay), dur(co.drained), co.lost)
	}
	fmt.Fprintf(c.out, "chaos: by kind (median / max of each fault's figure; delayed and failed added up)\n")
	fmt.Fprintf(c.out, "chaos:   %-15s %5s %17s %17s %17s %8s %8s %9s %6s\n", "kind", "count", "back in", "blocked", "drained", "failed", "delayed", "max delay", "lost")
	for _, kind := range append(chaosKindNames(), faultCrash) {
		var back, blocked, drained []time.Duration
		var failed, delayed, lost int
		var maxDelay time.Duration
		for i, f := range faults {
			if f.kind != kind {
				continue
			}
			back = append(back, f.ended.Sub(f.started))
			blocked = append(blocked, costs[i].blocked)
			drained = append(drained, costs[i].drained)
			failed += costs[i].failed
			delayed += costs[i].delayed
			lost += costs[i].lost
			maxDelay = max(maxDelay, costs[i].maxDelay)
		}
		if len(back) == 0 {
			continue
		}
		fmt.Fprintf(c.out, "chaos:   %-15s %5d %17s %17s %17s %8d %8d %9s %6d\n", kind, len(back), medMax(back), medMax(blocked), medMax(drained), failed, delayed, dur(maxDelay), lost)
	}
}

// dur prints a duration short; a negative one (not measured) as "-".
func dur(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// medMax is "median / max".
func medMax(ds []time.Duration) string {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return dur(ds[(len(ds)-1)/2]) + " / " + dur(ds[len(ds)-1])
}

// latencies are the times from each accepted order's first POST to its
// outcome notification, sorted; with faults, only of the trips that met
// none of them (the undisturbed).
func latencies(orders []*chaosOrder, faults []fault) []time.Duration {
	var out []time.Duration
	for _, o := range orders {
		if o.tripID == "" || o.outcomeAt.IsZero() {
			continue
		}
		met := false
		for _, f := range faults {
			if !f.started.After(o.outcomeAt) && (f.ended.IsZero() || !f.ended.Before(o.firstSent)) {
				met = true
				break
			}
		}
		if !met {
			out = append(out, o.outcomeAt.Sub(o.firstSent))
		}
	}
	slices.Sort(out)
	return out
}

// pct is the nearest-rank percentile of sorted durations; 100 is the max.
func pct(sorted []time.Duration, p int) string {
	if len(sorted) == 0 {
		return "-"
	}
	rank := (p*len(sorted) + 99) / 100
	return dur(sorted[max(rank, 1)-1])
}

// printTrips prints the counts of the orders and their POSTs.
func (c *chaos) printTrips(orders []*chaosOrder, attempts []attempt, f figures) {
	answers := map[string]int{}
	for _, a := range attempts {
		answers[a.outcomeOf()]++
	}
	var parts []string
	for _, k := range []string{"202", "no answer", "503 outcome unknown", "5xx", "429"} {
		if answers[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, answers[k]))
			delete(answers, k)
		}
	}
	for k, n := range answers {
		parts = append(parts, fmt.Sprintf("%s %d", k, n))
	}
	retried := 0
	for _, o := range orders {
		if o.attempts > 1 {
			retried++
		}
	}
	c.load.mu.Lock()
	all, calm := latencies(orders, nil), latencies(orders, c.faultsNow())
	c.load.mu.Unlock()
	fmt.Fprintf(c.out, "chaos: orders %d, sent again until answered 202: %d; POSTs %d (%s)\n", len(orders), retried, len(attempts), strings.Join(parts, ", "))
	fmt.Fprintf(c.out, "chaos: trips %s\n", f)
	fmt.Fprintf(c.out, "chaos: first POST to outcome notification: all trips p50 %s, p99 %s, max %s; the %d whose life met no fault (some met a fault's backlog) p50 %s, p99 %s, max %s\n",
		pct(all, 50), pct(all, 99), pct(all, 100), len(calm), pct(calm, 50), pct(calm, 99), pct(calm, 100))
}

// evidenceLine is a sidecar's log line saying it gave up on a message,
// which the Redis pub/sub component then acknowledges (components-contrib
// 1.17.3, pubsub/redis.processMessage): the message is not handed out
// again.
type evidenceLine struct {
	at      time.Time
	log     string // the sidecar's log file
	entryID string // the Redis stream entry
	topic   string
	tripID  string
	err     string
	after   int // the fault that started last before it, 0 for none
}

var (
	daprdTime   = regexp.MustCompile(`time="([^"]+)"`)
	daprdGaveUp = regexp.MustCompile(`msg="Error processing Redis message (\S+): ((?:[^"\\]|\\.)*)"`)
	// daprdNoStatus is daprd at debug level (DAPRD_LOG_LEVEL=debug) taking
	// an app's 2xx without a status it can read for SUCCESS: acknowledged
	// whatever the app did.
	daprdNoStatus = regexp.MustCompile(`msg="(skipping status check due to [^"]*from pub/sub event (\S+?))(?:: [^"]*)?"`)
	chaosTopics   = []string{"trip-created", "driver-assigned", "driver-not-found"}
	tripIDPattern = regexp.MustCompile(`"tripId":\s*"([0-9a-f-]{36})"`)
)

// evidence finds every message a sidecar gave up on, and the trip and the
// fault it belongs to.
func (c *chaos) evidence(t *testing.T, faults []fault) []evidenceLine {
	t.Helper()
	entries := map[string][]evidenceLine{} // entry id -> topic and trip
	events := map[string][]evidenceLine{}  // CloudEvent id -> topic and trip
	for _, topic := range chaosTopics {
		for _, e := range c.sys.topicEvents(t, topic) {
			trip := ""
			if m := tripIDPattern.FindSubmatch(e.raw); m != nil {
				trip = string(m[1])
			}
			entries[e.entryID] = append(entries[e.entryID], evidenceLine{topic: topic, tripID: trip})
			events[e.ID] = append(events[e.ID], evidenceLine{topic: topic, tripID: trip})
		}
	}
	logs, _ := filepath.Glob(filepath.Join(c.sys.logDir(), "*-dapr.log"))
	var out []evidenceLine
	for _, log := range logs {
		f, err := os.Open(log)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			var e evidenceLine
			known := entries
			if m := daprdGaveUp.FindStringSubmatch(line); m != nil {
				e = evidenceLine{log: filepath.Base(log), entryID: m[1], err: m[2]}
			} else if m := daprdNoStatus.FindStringSubmatch(line); m != nil {
				// Dapr 1.17.5's HTTP app channel race (docs/chaos.md): the
				// line names the CloudEvent, not the stream entry.
				e = evidenceLine{log: filepath.Base(log), entryID: m[2], err: "taken for SUCCESS: " + m[1]}
				known = events
			} else {
				continue
			}
			if tm := daprdTime.FindStringSubmatch(line); tm != nil {
				e.at, _ = time.Parse(time.RFC3339Nano, tm[1])
			}
			var topics, trips []string
			for _, k := range known[e.entryID] {
				topics, trips = append(topics, k.topic), append(trips, k.tripID)
			}
			e.topic, e.tripID = strings.Join(topics, "|"), strings.Join(trips, "|")
			for _, fl := range faults {
				if !fl.started.After(e.at) {
					e.after = fl.n
				}
			}
			out = append(out, e)
		}
		f.Close()
	}
	slices.SortFunc(out, func(a, b evidenceLine) int { return a.at.Compare(b.at) })
	return out
}

func (c *chaos) printEvidence(lines []evidenceLine) {
	fmt.Fprintf(c.out, "chaos: messages a sidecar gave up on, which Redis then forgets (\"Error processing Redis message\" in a daprd log; at debug level also \"skipping status check\"): %d\n", len(lines))
	// By sidecar, topic, fault before and reason, with the time they span.
	type group struct {
		log, topic, err string
		after           int
	}
	var order []group
	spans := map[group][2]time.Time{}
	counts := map[group]int{}
	for _, e := range lines {
		g := group{e.log, e.topic, e.err, e.after}
		if counts[g] == 0 {
			order = append(order, g)
			spans[g] = [2]time.Time{e.at, e.at}
		}
		counts[g]++
		spans[g] = [2]time.Time{spans[g][0], e.at}
	}
	for _, g := range order {
		fmt.Fprintf(c.out, "chaos:   %d from %s on %s, +%s to +%s, after fault #%d: %s\n", counts[g], strings.TrimSuffix(g.log, ".log"),
			cmp.Or(g.topic, "an entry of no topic read"), offset(spans[g][0].Sub(c.start)), offset(spans[g][1].Sub(c.start)), g.after, g.err)
	}
	for i, e := range lines {
		if i == chaosDetailed {
			fmt.Fprintf(c.out, "chaos:   ... and %d more\n", len(lines)-i)
			break
		}
		fmt.Fprintf(c.out, "chaos:   %s (+%s) %s: %s entry %s, trip %s, after fault #%d: %s\n", e.at.UTC().Format("15:04:05.000"),
			offset(e.at.Sub(c.start)), e.log, e.topic, e.entryID, e.tripID, e.after, e.err)
	}
}

// printJudged names every trip that did not simply complete: what became of
// it, its POSTs, the faults around its life, the messages given up on for
// it, and the log lines that mention it.
func (c *chaos) printJudged(t *testing.T, f figures, faults []fault, orders []*chaosOrder, evidence []evidenceLine) {
	t.Helper()
	if len(f.judged) == 0 {
		fmt.Fprintf(c.out, "chaos: every trip completed exactly once\n")
		return
	}
	byTrip := map[string]*chaosOrder{}
	c.load.mu.Lock()
	for _, o := range orders {
		if o.tripID != "" {
			byTrip[o.tripID] = o
		}
	}
	c.load.mu.Unlock()
	gaveUp := map[string][]evidenceLine{}
	for _, e := range evidence {
		for trip := range strings.SplitSeq(e.tripID, "|") {
			gaveUp[trip] = append(gaveUp[trip], e)
		}
	}
	var unexplained []judgedTrip
	for _, j := range f.judged {
		if len(gaveUp[j.tripID]) == 0 {
			unexplained = append(unexplained, j)
		}
	}
	fmt.Fprintf(c.out, "chaos: trips that did not simply complete: %d, of which %d with no message a sidecar said it gave up on (unexplained, listed first); "+
		"each with the fault around its order and the message given up on, the first %d in full\n", len(f.judged), len(unexplained), chaosDetailed)
	ordered := append(unexplained, slices.DeleteFunc(slices.Clone(f.judged), func(j judgedTrip) bool { return len(gaveUp[j.tripID]) == 0 })...)
	for i, j := range ordered {
		o := byTrip[j.tripID]
		around := ""
		if o != nil {
			for _, fl := range faults {
				if !fl.started.After(o.firstSent) {
					around = fmt.Sprintf("; ordered at +%s, %s after fault #%d started (%s)", offset(o.firstSent.Sub(c.start)), dur(o.firstSent.Sub(fl.started)), fl.n, fl.describe())
				}
			}
		}
		why := "no sidecar said it gave up on any of its messages: UNEXPLAINED"
		if es := gaveUp[j.tripID]; len(es) > 0 {
			why = fmt.Sprintf("%s gave up on its %s after fault #%d (%s)", strings.TrimSuffix(es[0].log, ".log"), es[0].topic, es[0].after, es[0].err)
		}
		fmt.Fprintf(c.out, "chaos:   trip %s of %s: %s: %s%s; %s\n", j.tripID, j.riderID, j.verdict, strings.Join(j.why, "; "), around, why)
		if o == nil || i >= chaosDetailed {
			continue
		}
		fmt.Fprintf(c.out, "chaos:     first POST +%s, answered 202 +%s after %d POSTs\n", offset(o.firstSent.Sub(c.start)), offset(o.acceptedAt.Sub(c.start)), o.attempts)
		for _, fl := range faults {
			if fl.started.After(o.firstSent.Add(-10*time.Second)) && fl.started.Before(o.acceptedAt.Add(time.Minute)) ||
				(!fl.started.After(o.firstSent) && (fl.ended.IsZero() || fl.ended.After(o.firstSent.Add(-10*time.Second)))) {
				fmt.Fprintf(c.out, "chaos:     fault #%d at +%s (%s the first POST): %s\n", fl.n, offset(fl.started.Sub(c.start)),
					signedDelta(fl.started.Sub(o.firstSent)), fl.describe())
			}
		}
		for _, e := range evidence {
			if strings.Contains(e.tripID, j.tripID) {
				fmt.Fprintf(c.out, "chaos:     %s gave up on its %s (entry %s) at +%s, after fault #%d: %s\n", strings.TrimSuffix(e.log, ".log"), e.topic, e.entryID, offset(e.at.Sub(c.start)), e.after, e.err)
			}
		}
		c.printMentions(j.tripID)
	}
}

// chaosDetailed is how many of the trips that did not simply complete
// (the unexplained first) the report shows with every fault around them
// and their log lines; it lists every one on a line of its own.
const chaosDetailed = 10

// signedDelta is "3.2s after" or "1.0s before".
func signedDelta(d time.Duration) string {
	if d < 0 {
		return dur(-d) + " before"
	}
	return dur(d) + " after"
}

// printMentions prints the log lines of every process that mention a trip,
// at most a few per log.
func (c *chaos) printMentions(tripID string) {
	logs, _ := filepath.Glob(filepath.Join(c.sys.logDir(), "*.log"))
	for _, log := range logs {
		b, err := os.ReadFile(log)
		if err != nil {
			continue
		}
		var lines []string
		for line := range strings.Lines(string(b)) {
			if strings.Contains(line, tripID) {
				lines = append(lines, strings.TrimSpace(line))
			}
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(c.out, "chaos:     %s mentions it %d times:\n", filepath.Base(log), len(lines))
		for i, line := range lines {
			if i == 6 {
				fmt.Fprintf(c.out, "chaos:       ...\n")
				break
			}
			if len(line) > 400 {
				line = line[:400] + "..."
			}
			fmt.Fprintf(c.out, "chaos:       %s\n", line)
		}
	}
}
