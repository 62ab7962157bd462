// Command daprd is Dapr's sidecar at v1.17.5, built from the Go module proxy
// by scripts/daprd.sh for machines without `dapr init`.
//
// It is github.com/dapr/dapr/cmd/daprd built with -tags stablecomponents
// (the components Dapr calls stable, which the full set of beta components
// does not build with here), plus one beta component that this project
// tests: the NATS JetStream pub/sub (components/brokers/nats.yaml). It
// registers that component the way daprd's own allcomponents build does,
// then runs daprd unchanged.
package main

import (
	"github.com/dapr/components-contrib/pubsub/jetstream"
	"github.com/dapr/dapr/cmd/daprd/app"
	pubsubLoader "github.com/dapr/dapr/pkg/components/pubsub"
)

func main() {
	pubsubLoader.DefaultRegistry.RegisterComponent(jetstream.NewJetStream, "jetstream")
	app.Run()
}
