//go:build brokers

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kfake"
	"gopkg.in/yaml.v3"
)

// The broker matrix, `make test-brokers` (build tag brokers): the same
// scenarios against every broker that runs on a development machine. Each
// broker is one component file of components/, loaded as the sidecars'
// pubsub component exactly as `make run BROKER=` loads it; the services and
// every other component stay as they are, Redis included as state store.
//
// Per broker, one system runs these, in order:
//   - order: a trip ordered through the Trip API reaches both notifications;
//   - duplicate: the trip-created of a finished trip is published twice
//     more; nothing changes;
//   - rate: 50 trips ordered at once, timed from the first order to the
//     last rider hearing their driver;
//   - consumer down: the driver service and its sidecar are stopped, 50
//     trips ordered, both started again; every trip must get its driver.
//
// Settings known to lose messages when a subscriber is down run every
// scenario too, and the consumer-down one holds them to losing some: the
// README says they do.
//
// TestBrokers writes what it measured into the README's broker table when
// BROKER_TABLE names the README (make test-brokers does).

// broker is one row of the matrix.
type broker struct {
	name  string                          // the row's name; for the repository's files, make run's BROKER=
	file  string                          // the pubsub component, under ../components
	drop  []string                        // metadata left out of file: a setting that loses messages
	start func(*system) ([]string, error) // starts the broker; nil for Redis, which every system has
	loses bool                            // the consumer-down scenario is expected to lose messages
	why   string                          // for a row that loses: what the README says of it
	local bool                            // delivers only within one sidecar: runs inMemoryScenario alone
}

var brokers = []broker{
	{name: "redis", file: "pubsub.yaml"},
	{name: "rabbitmq", file: "brokers/rabbitmq.yaml", start: startRabbitMQ},
	{name: "rabbitmq-defaults", file: "brokers/rabbitmq.yaml", drop: []string{"durable", "deletedWhenUnused"}, start: startRabbitMQ,
		loses: true, why: "without `durable` and `deletedWhenUnused: false` a subscriber's queue goes with it"},
	{name: "nats", file: "brokers/nats.yaml", start: startNATS},
	{name: "kafka", file: "brokers/kafka.yaml", start: startKafka},
	{name: "mqtt", file: "brokers/mqtt.yaml", start: startMosquitto,
		loses: true, why: "a subscriber that was down gets nothing of what was published meanwhile, although its session is persistent"},
	{name: "inmemory", file: "brokers/inmemory.yaml", local: true,
		why: "delivers only to subscribers of the sidecar that published"},
}

// brokerTopics are the topics the system uses: the three of contracts/ and
// each service's dead-letter topic (the dispatch service's too). Brokers that need topics or streams
// made up front get these.
var brokerTopics = []string{
	"trip-created", "driver-assigned", "driver-not-found",
	"trip-dead-letters", "driver-dead-letters", "notification-dead-letters", "dispatch-dead-letters",
}

// result is what one broker's run measured, for the README table.
type result struct {
	broker                 broker
	order, duplicate, rate string
	down                   figures // the consumer-down scenario
}

func TestBrokers(t *testing.T) {
	var results []result
	for _, b := range selectedBrokers(t) {
		t.Run(b.name, func(t *testing.T) {
			r := runBroker(t, b)
			if !t.Failed() {
				results = append(results, r)
			}
		})
	}
	if table := os.Getenv("BROKER_TABLE"); table != "" && len(results) > 0 {
		if err := updateBrokerTable(table, results); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("broker table: %d rows written to %s\n", len(results), table)
	}
}

// selectedBrokers are the brokers BROKERS names (comma-separated), or all.
func selectedBrokers(t *testing.T) []broker {
	names := os.Getenv("BROKERS")
	if names == "" {
		return brokers
	}
	var out []broker
	for name := range strings.SplitSeq(names, ",") {
		i := slices.IndexFunc(brokers, func(b broker) bool { return b.name == name })
		if i < 0 {
			t.Fatalf("BROKERS names %q; the matrix has %s", name, brokerNames())
		}
		out = append(out, brokers[i])
	}
	return out
}

func brokerNames() string {
	var names []string
	for _, b := range brokers {
		names = append(names, b.name)
	}
	return strings.Join(names, ", ")
}

// runBroker starts a system on the broker and runs the scenarios on it.
func runBroker(t *testing.T, b broker) result {
	file := b.file
	if len(b.drop) > 0 {
		file = withoutMetadata(t, b.file, b.drop...)
	}
	// A pool big enough that drivers never hold the trips back: the rate
	// of 50 orders at once is then the broker's and the sidecars'.
	opts := []option{shortRides, withEnv("driver", "DRIVER_POOL_SIZE=500"), withPubsub(file)}
	if b.start != nil {
		opts = append(opts, withBroker(b.start))
	}
	s := startSystem(t, opts...)
	r := result{broker: b}
	if b.local {
		r.order = inMemoryScenario(t, s)
		report(t, "order: %s", r.order)
		return r
	}
	r.order = orderScenario(t, s)
	r.duplicate = duplicateScenario(t, s)
	r.rate = rateScenario(t, s, 50)
	r.down = consumerDownScenario(t, s, 50, b.loses)
	report(t, "order: %s; duplicate: %s; rate: %s; consumer down: %s", r.order, r.duplicate, r.rate, r.down)
	return r
}

// orderScenario orders one trip and waits for both notifications: the
// trip was received, and who is on the way in what.
func orderScenario(t *testing.T, s *system) string {
	t.Helper()
	riderID := newID("rider")
	begin := time.Now()
	trip := accepted(t, s.orderTrip(t, orderBody(riderID, jardasCorner)))
	got := s.awaitNotifications(t, riderID, 2)
	took := time.Since(begin)
	// The trip service consumes driver-assigned on its own: the rider may
	// hear of the driver a moment before the trip shows it.
	settled := s.settledTrip(t, trip.TripID)
	if settled.Status != "driver_assigned" || settled.Driver == nil {
		t.Fatalf("trip %s: want driver_assigned with a driver, got %+v", trip.TripID, settled)
	}
	if len(got) != 2 || got[0].Kind != "trip_received" || got[1].Kind != "driver_assigned" ||
		!strings.HasPrefix(got[1].Text, settled.Driver.Name+" is on the way in a ") {
		t.Fatalf("rider %s: want trip_received, then %q on the way, got %+v", riderID, settled.Driver.Name, got)
	}
	return fmt.Sprintf("yes, %s", took.Round(time.Millisecond))
}

// duplicateScenario publishes the trip-created of a finished trip twice
// more, as a broker redelivering it would, and waits until both services
// have had both copies: the trip keeps its driver and the rider hears
// nothing more.
func duplicateScenario(t *testing.T, s *system) string {
	t.Helper()
	riderID := newID("rider")
	trip := accepted(t, s.orderTrip(t, orderBody(riderID, jardasCorner)))
	s.awaitNotifications(t, riderID, 2)
	first := s.settledTrip(t, trip.TripID)
	if first.Driver == nil {
		t.Fatalf("trip %s has no driver: %+v", trip.TripID, first)
	}

	drv, ntf := s.app("driver"), s.app("notification")
	before := map[*app]int{drv: deliveries(t, drv, "/events/trip-created"), ntf: deliveries(t, ntf, "/events/trip-created")}
	assignedBefore := deliveries(t, ntf, "/events/driver-assigned")
	// Each copy has an event id of its own: NATS JetStream drops a publish
	// whose id it saw within its duplicate window (2 minutes), before any
	// subscriber gets it. The services know a trip by its trip id.
	data := map[string]any{
		"tripId": trip.TripID, "riderId": riderID,
		"pickup":      map[string]float64{"lat": jardasCorner.lat, "lon": jardasCorner.lon},
		"dropoff":     map[string]float64{"lat": 50.1, "lon": 14.26},
		"requestedAt": time.Now().UTC().Format(time.RFC3339),
	}
	trp := s.app("trip")
	s.publish(t, trp, "trip-created", cloudEvent(t, newUUID(), "trip-created", data))
	s.publish(t, trp, "trip-created", cloudEvent(t, newUUID(), "trip-created", data))
	eventually(t, 30*time.Second, "both copies handled by driver and notification", func() (bool, string) {
		d, n := deliveries(t, drv, "/events/trip-created")-before[drv], deliveries(t, ntf, "/events/trip-created")-before[ntf]
		return d >= 2 && n >= 2, fmt.Sprintf("driver had %d, notification %d", d, n)
	})
	// The driver service answers a trip it decided by publishing its
	// decision again: wait until the notification service had those too.
	eventually(t, 30*time.Second, "the driver's answers to both copies", func() (bool, string) {
		n := deliveries(t, ntf, "/events/driver-assigned") - assignedBefore
		return n >= 2, fmt.Sprintf("notification had %d driver-assigned", n)
	})

	after := getJSON[tripView](t, s.url("trip", "/trips/"+trip.TripID))
	if after.Status != "driver_assigned" || after.Driver == nil || after.Driver.ID != first.Driver.ID {
		t.Fatalf("trip %s changed after the copies: was %+v, is %+v", trip.TripID, first, after)
	}
	if got := s.notifications(t, riderID); len(got) != 2 {
		t.Fatalf("rider %s: want the 2 notifications of before, got %q", riderID, kinds(got))
	}
	return "1 driver, 2 notifications"
}

// inMemoryScenario shows that an event reaches only the subscribers of the
// sidecar it was published to. A trip is ordered: its trip-created never
// reaches the driver and notification services, only the trip service's
// own subscription to it. A driver-assigned for it published through the
// driver's sidecar never reaches the trip service. (The topic scopes keep
// the trip service from publishing driver-assigned itself.)
func inMemoryScenario(t *testing.T, s *system) string {
	t.Helper()
	riderID := newID("rider")
	trip := accepted(t, s.orderTrip(t, orderBody(riderID, jardasCorner)))
	assigned := cloudEvent(t, newUUID(), "driver-assigned", map[string]any{
		"tripId": trip.TripID, "riderId": riderID,
		"driver": map[string]any{"id": "jarda", "name": "Jarda",
			"car": map[string]string{"make": "Toyota", "model": "Corolla", "color": "blue", "plate": "1AB 2345"}},
		"etaSeconds": 240,
		"assignedAt": time.Now().UTC().Format(time.RFC3339),
	})
	trp, drv, ntf := s.app("trip"), s.app("driver"), s.app("notification")
	s.publish(t, drv, "driver-assigned", assigned)
	// Nothing to wait for but time: 5 s is hundreds of times what a
	// delivery takes on Redis.
	time.Sleep(5 * time.Second)
	if n := deliveries(t, drv, "/events/trip-created") + deliveries(t, ntf, "/events/trip-created"); n != 0 {
		t.Fatalf("trip-created reached another sidecar's app %d times; the in-memory broker should not carry it", n)
	}
	if n := deliveries(t, trp, "/events/driver-assigned"); n != 0 {
		t.Fatalf("driver-assigned published through the driver's sidecar reached the trip service")
	}
	if got := getJSON[tripView](t, s.url("trip", "/trips/"+trip.TripID)); got.Status != "requested" {
		t.Fatalf("trip %s: want requested (nothing delivered), got %+v", trip.TripID, got)
	}
	if got := s.notifications(t, riderID); len(got) != 0 {
		t.Fatalf("rider %s heard %q; nothing should arrive", riderID, kinds(got))
	}
	if n := deliveries(t, trp, "/events/trip-created"); n == 0 {
		t.Fatalf("the trip service's own trip-created never reached it: the in-memory broker should carry it within its sidecar")
	}
	return "no: publish succeeds, nothing reaches another service"
}

// rateScenario orders n trips at once and times them from the first order
// to the last rider told about a driver, with every trip completed once.
func rateScenario(t *testing.T, s *system, n int) string {
	t.Helper()
	begin := time.Now()
	orders := s.orderAll(n, 8)
	requireAccepted(t, orders)
	f, settled := s.outcomes(t, orders, 2*time.Minute)
	took := settled.Sub(begin)
	f.check(t)
	return fmt.Sprintf("%.1f trips/s", float64(n)/took.Seconds())
}

// consumerDownScenario stops the driver service and its sidecar, orders n
// trips, waits until the rider of each heard trip_received (the broker took
// trip-created), starts both again and counts what became of each trip.
func consumerDownScenario(t *testing.T, s *system, n int, loses bool) figures {
	t.Helper()
	drv := s.app("driver")
	s.stopService(t, drv, syscall.SIGTERM)
	s.stopSidecar(t, drv, syscall.SIGTERM)
	orders := s.orderAll(n, 8)
	requireAccepted(t, orders)
	eventually(t, 2*time.Minute, "trip_received for every order", func() (bool, string) {
		waiting := 0
		for _, o := range orders {
			if len(s.notifications(t, o.riderID)) == 0 {
				waiting++
			}
		}
		return waiting == 0, fmt.Sprintf("%d riders without one", waiting)
	})
	s.startApp(t, drv)
	within := 2 * time.Minute
	if loses {
		within = 30 * time.Second // enough for a broker that keeps them, by far
	}
	f, _ := s.outcomes(t, orders, within)
	switch {
	case !loses:
		f.check(t)
	case f.lost == 0:
		t.Errorf("%s: no trip lost, but the README says this setting loses messages while a subscriber is down: correct it", f)
	case f.duplicated > 0:
		t.Errorf("%s: duplicates", f)
	}
	return f
}

// quietAfter is how long outcomes waits after the last outcome, for a
// duplicate to show.
const quietAfter = 2 * time.Second

// outcomes waits until the rider of every order has heard its outcome
// (driver_assigned or no_driver), or within passes, then quietAfter more,
// and judges each order from what the public APIs say (judge in
// outcome_test.go): the trip and the rider's notifications. It reports
// when it saw the last outcome (it polls every 250 ms).
func (s *system) outcomes(t *testing.T, orders []order, within time.Duration) (f figures, settled time.Time) {
	t.Helper()
	begin := time.Now()
	waiting := map[string]bool{}
	for _, o := range orders {
		if o.accepted() {
			waiting[o.riderID] = true
		}
	}
	for len(waiting) > 0 && time.Since(begin) < within {
		for rider := range waiting {
			for _, n := range s.notifications(t, rider) {
				if n.Kind == "driver_assigned" || n.Kind == "no_driver" {
					delete(waiting, rider)
				}
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	settled = time.Now()
	time.Sleep(quietAfter)

	var problems []string
	for _, o := range orders {
		if !o.accepted() {
			t.Errorf("order of %s not accepted: %s", o.riderID, o.answer)
			continue
		}
		f.ordered++
		trip := getJSON[tripView](t, s.url("trip", "/trips/"+o.tripID))
		history := s.notifications(t, o.riderID)
		drivers, notFound := map[string]int{}, 0
		if trip.Driver != nil {
			drivers[trip.Driver.ID] = 1
		}
		if trip.Status == "no_driver" {
			notFound = 1
		}
		verdict, why := judge(o, trip, history, &outcomeEvents{drivers, notFound})
		f.count(verdict, trip)
		if verdict != "lost" && len(why) > 0 {
			problems = append(problems, fmt.Sprintf("trip %s %s: %s", o.tripID, verdict, strings.Join(why, ", ")))
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
	return f, settled
}

// withoutMetadata writes a copy of a component file without the named
// metadata, into the test's temporary folder, and returns its path.
func withoutMetadata(t *testing.T, file string, names ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "components", file))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	spec, _ := doc["spec"].(map[string]any)
	items, _ := spec["metadata"].([]any)
	var kept []any
	for _, item := range items {
		m, _ := item.(map[string]any)
		name, _ := m["name"].(string)
		if !slices.Contains(names, name) {
			kept = append(kept, item)
		}
	}
	if len(kept) != len(items)-len(names) {
		t.Fatalf("%s has not every one of %v", file, names)
	}
	spec["metadata"] = kept
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(file))
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The brokers. Each starts next to the system's Redis, on free loopback
// ports, with its data in the system's folder and its log with the others.

// startRabbitMQ starts Debian's rabbitmq-server as a node of its own (not
// the package's system service): its own name, ports, data and Erlang
// port mapper, and a user of its own with a new password instead of
// guest/guest, which the sidecars get from the secret store
// (components/brokers/rabbitmq.yaml): a component that did not read them
// from there could not sign in.
func startRabbitMQ(s *system) ([]string, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	amqp, dist, epmd := ports[0], ports[1], ports[2]
	dir := filepath.Join(s.dir, "rabbitmq")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "enabled_plugins"), []byte("[].\n"), 0o644); err != nil {
		return nil, err
	}
	// The node's first start creates this user (and no guest).
	const user = "ride"
	password := newToken()
	conf := fmt.Sprintf("default_user = %s\ndefault_pass = %s\n", user, password)
	if err := os.WriteFile(filepath.Join(dir, "rabbitmq.conf"), []byte(conf), 0o600); err != nil {
		return nil, err
	}
	epmdEnv := []string{"ERL_EPMD_ADDRESS=127.0.0.1", "ERL_EPMD_PORT=" + strconv.Itoa(epmd)}
	env := append(append(inheritedEnv(),
		"HOME="+dir, // the Erlang cookie
		"RABBITMQ_NODENAME=e2e-"+strconv.Itoa(amqp)+"@localhost",
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT="+strconv.Itoa(amqp),
		"RABBITMQ_DIST_PORT="+strconv.Itoa(dist),
		"RABBITMQ_MNESIA_BASE="+filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(dir, "log"),
		"RABBITMQ_LOGS=-", // to the process's output, the system's log
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(dir, "rabbitmq"),
	), epmdEnv...)
	// Debian's /usr/sbin/rabbitmq-server runs the server as the rabbitmq
	// user with the package's settings; the script behind it runs it as
	// is.
	bin := "/usr/lib/rabbitmq/bin/rabbitmq-server"
	if _, err := os.Stat(bin); err != nil {
		return nil, errors.New("RabbitMQ is not installed (Debian: apt-get install rabbitmq-server)")
	}
	p, err := s.spawn("rabbitmq", env, bin)
	if err != nil {
		return nil, err
	}
	p.infra = true
	// The Erlang port mapper detaches from the server: end it with the system.
	s.onStop(func() {
		cmd := exec.Command("epmd", "-kill")
		cmd.Env = append(inheritedEnv(), epmdEnv...)
		_ = cmd.Run()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(amqp))
	if err := s.awaitBroker("RabbitMQ", 60*time.Second, func() error { return amqpHello(addr) }); err != nil {
		return nil, err
	}
	return []string{"RABBITMQ_HOST=" + addr, "RABBITMQ_USERNAME=" + user, "RABBITMQ_PASSWORD=" + password}, nil
}

// amqpHello opens an AMQP connection far enough to see the server answer
// the protocol header with connection.start (a method frame, type 1).
func amqpHello(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("AMQP\x00\x00\x09\x01")); err != nil {
		return err
	}
	b := make([]byte, 1)
	if _, err := c.Read(b); err != nil {
		return err
	}
	if b[0] != 1 {
		return fmt.Errorf("AMQP answered frame type %d, want 1", b[0])
	}
	return nil
}

// startNATS starts Debian's nats-server with JetStream, and one stream per
// topic, named after it: the component makes none, and a message on a
// subject no stream holds is lost.
func startNATS(s *system) ([]string, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	url := "nats://127.0.0.1:" + strconv.Itoa(ports[0])
	p, err := s.spawn("nats", inheritedEnv(), "nats-server",
		"-a", "127.0.0.1", "-p", strconv.Itoa(ports[0]), "-js", "-sd", filepath.Join(s.dir, "nats"))
	if err != nil {
		return nil, fmt.Errorf("%w (Debian: apt-get install nats-server)", err)
	}
	p.infra = true
	var nc *nats.Conn
	err = s.awaitBroker("NATS", 30*time.Second, func() (err error) {
		nc, err = nats.Connect(url)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, topic := range brokerTopics {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: topic, Subjects: []string{topic}, Storage: jetstream.FileStorage})
		if err != nil {
			return nil, fmt.Errorf("create the stream %s: %w", topic, err)
		}
	}
	return []string{"NATS_URL=" + url}, nil
}

// startKafka starts kfake, an implementation of the Kafka protocol in
// memory (github.com/twmb/franz-go/pkg/kfake), in the test's own process,
// with the topics made: no Kafka broker is packaged for Debian. It stands
// in for Kafka in this test only.
func startKafka(s *system) ([]string, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	c, err := kfake.NewCluster(kfake.Ports(ports[0]), kfake.SeedTopics(3, brokerTopics...))
	if err != nil {
		return nil, err
	}
	s.onStop(c.Close)
	return []string{"KAFKA_BROKERS=" + strings.Join(c.ListenAddrs(), ",")}, nil
}

// startMosquitto starts Debian's Mosquitto with no cap on the QoS 1
// messages it queues per client: the default, 1000, silently drops the
// rest.
func startMosquitto(s *system) ([]string, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(s.dir, "mosquitto.conf")
	settings := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\npersistence false\nlog_dest stderr\n", ports[0])
	if err := os.WriteFile(conf, []byte(settings), 0o644); err != nil {
		return nil, err
	}
	p, err := s.spawn("mosquitto", inheritedEnv(), "mosquitto", "-c", conf)
	if err != nil {
		return nil, fmt.Errorf("%w (Debian: apt-get install mosquitto)", err)
	}
	p.infra = true
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	err = s.awaitBroker("Mosquitto", 20*time.Second, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return []string{"MQTT_URL=tcp://" + addr}, nil
}

// awaitBroker polls check until the broker answers.
func (s *system) awaitBroker(what string, timeout time.Duration, check func() error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.poll(ctx, what+" to answer", func(context.Context) error { return check() })
}

// The README's broker table lies between these two lines.
const (
	tableStart = "<!-- broker table: written by make test-brokers -->"
	tableEnd   = "<!-- end of broker table -->"
)

// updateBrokerTable writes the rows of results into the broker table of
// the README at path, keeping the rows of brokers this run did not test.
func updateBrokerTable(path string, results []result) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(b)
	i, j := strings.Index(text, tableStart), strings.Index(text, tableEnd)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no broker table: no %q line followed by %q", path, tableStart, tableEnd)
	}
	rows := map[string]string{}
	for line := range strings.Lines(text[i+len(tableStart) : j]) {
		if name, ok := rowName(line); ok {
			rows[name] = strings.TrimRight(line, "\n")
		}
	}
	machine := fmt.Sprintf("%s, %s, %d cores", time.Now().UTC().Format("2006-01-02"), cpuModel(), runtime.NumCPU())
	for _, r := range results {
		rows[r.broker.name] = r.row(machine)
	}
	var out strings.Builder
	out.WriteString(tableStart + "\n")
	out.WriteString("| broker | component | trip ordered: both notifications | trip-created twice more | 50 trips at once | driver down, 50 trips: delivered / lost | measured |\n")
	out.WriteString("|---|---|---|---|---|---|---|\n")
	for _, b := range brokers {
		if row, ok := rows[b.name]; ok {
			out.WriteString(row + "\n")
		}
	}
	return os.WriteFile(path, []byte(text[:i]+out.String()+text[j:]), 0o644)
}

// rowName is the broker a table row is about: its first cell, in backquotes.
func rowName(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "| `")
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, "`")
	return name, ok
}

// row is the result as a row of the README table.
func (r result) row(machine string) string {
	b := r.broker
	component := "`components/" + b.file + "`"
	if len(b.drop) > 0 {
		component += " without `" + strings.Join(b.drop, "`, `") + "`"
	}
	const notRun = "–"
	down := fmt.Sprintf("%d / %d", r.down.completed, r.down.lost)
	cells := []string{"`" + b.name + "`", component, r.order, r.duplicate, r.rate, down, machine}
	switch {
	case b.local:
		cells[2] = r.order + " (" + b.why + ")"
		cells[3], cells[4], cells[5] = notRun, notRun, notRun
	case b.loses:
		cells[5] = fmt.Sprintf("**%s**: %s", down, b.why)
	}
	return "| " + strings.Join(cells, " | ") + " |"
}
