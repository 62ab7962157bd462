// Command daprd is Dapr's sidecar at v1.17.5, built from the Go module proxy
// by scripts/daprd.sh for machines without `dapr init`.
//
// It is github.com/dapr/dapr/cmd/daprd built with -tags stablecomponents
// (the components Dapr calls stable, which the full set of beta components
// does not build with here), plus two components outside that set, each
// registered the way daprd's own allcomponents build does:
//   - the NATS JetStream pub/sub, which make test-brokers tests
//     (components/brokers/nats.yaml);
//   - the SQLite name resolver, with which the end-to-end harness gives each
//     system a name resolution of its own (a file in the system's folder):
//     with mDNS, the default, a service invocation may reach an app of the
//     same id in another system running on the machine.
//
// Then it runs daprd unchanged.
package main

import (
	nrsqlite "github.com/dapr/components-contrib/nameresolution/sqlite"
	"github.com/dapr/components-contrib/pubsub/jetstream"
	"github.com/dapr/dapr/cmd/daprd/app"
	nrLoader "github.com/dapr/dapr/pkg/components/nameresolution"
	pubsubLoader "github.com/dapr/dapr/pkg/components/pubsub"
)

func main() {
	pubsubLoader.DefaultRegistry.RegisterComponent(jetstream.NewJetStream, "jetstream")
	nrLoader.DefaultRegistry.RegisterComponent(nrsqlite.NewResolver, "sqlite")
	app.Run()
}
