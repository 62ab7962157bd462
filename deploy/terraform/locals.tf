# The one table everything else is generated from: the apps, what each
# subscribes to, its state store. Subscriptions, KEDA scale rules and
# component scopes all come from here, so they cannot drift apart.
# deploy_test.go holds this table to contracts/asyncapi.yaml.
locals {
  # Events on the pub/sub component named "pubsub" (contracts/asyncapi.yaml).
  event_topics = ["trip-created", "driver-assigned", "driver-not-found"]

  # Per service (the key is the Dapr app id, the container app's name and the
  # Service Bus subscription name, i.e. the sidecar's consumerID):
  #   subscribes: event topics it receives (docs/conventions.md); each service
  #     also subscribes to its own "<app>-dead-letters" topic, added below.
  #     trip receives its own trip-created: publishing it accepts an order,
  #     and the trip is recorded from it when POST /trips could not write
  #     the record itself.
  #   external: reachable from the internet: the Trip API, and the dispatch
  #     service's page, which dispatchers open in a browser (it admits a
  #     signed-in dispatcher only: a token of auth_issuer with the app role
  #     "dispatcher", kept in a Secure, HTTP-only cookie). Driver and
  #     notification get ingress inside the environment only (GET /drivers,
  #     the rider's notifications, /dead-letters); put a gateway with
  #     authentication in front before exposing them.
  #   choreography_only: runs in the choreography alone (var.style). The
  #     trip service, whose place a coordinator takes in the other styles;
  #     and dispatch, which draws the choreography's events, which the other
  #     styles do not publish.
  #   min_replicas (var.min_replicas):
  #     trip 1: the public entry point. Riders order over HTTP, which no
  #       queue length shows, so POST /trips must not wait for a cold start.
  #     driver 0: nothing is lost while it is scaled to zero. Its Service Bus
  #       subscription exists independently of it and keeps the backlog; the
  #       KEDA rule on that backlog starts a replica for the first message.
  #       The price is a cold start (tens of seconds) on the first trip after
  #       a quiet period.
  #     notification 1: riders hold Server-Sent Events streams open on it,
  #       which the Service Bus backlog does not show; at 0 a rider following
  #       a trip would have nobody to talk to.
  #     dispatch 1: dispatchers hold the board's Server-Sent Events stream
  #       open, as riders do on notification.
  #
  # In the other styles (var.style) the coordinator takes the trip service's
  # place (local.coordinators): it serves the Trip API and invokes the
  # driver and notification services' steps, which then must answer at once,
  # so they keep at least one replica (local.min_replicas).
  services = {
    trip = {
      port              = 8080
      external          = true
      choreography_only = true
      publishes         = ["trip-created"]
      subscribes        = ["trip-created", "driver-assigned", "driver-not-found"]
      state_store       = "trip-store"
      extra_env         = {}
    }
    driver = {
      port              = 8081
      external          = false
      choreography_only = false
      publishes         = ["driver-assigned", "driver-not-found"]
      subscribes        = ["trip-created"]
      state_store       = "driver-store"
      extra_env = {
        ASSIGN_DEADLINE = "60s"
        RIDE_DURATION   = "2m"
        MAX_PICKUP_KM   = "15"
      }
    }
    notification = {
      port              = 8082
      external          = false
      choreography_only = false
      publishes         = []
      subscribes        = ["trip-created", "driver-assigned", "driver-not-found"]
      state_store       = "notification-store"
      extra_env         = {}
    }
    # The dispatchers' live board (services/dispatch), added beside the
    # three without changing them: it reads their events, which
    # contracts/asyncapi.yaml does not list it for (deploy_test.go's
    # readersBeyondTheContract), and publishes only its own dead letters.
    dispatch = {
      port              = 8083
      external          = true
      choreography_only = true
      publishes         = []
      subscribes        = ["trip-created", "driver-assigned", "driver-not-found"]
      state_store       = "dispatch-store"
      extra_env         = {}
    }
  }

  # The coordinators of the other styles. Neither subscribes to anything.
  #   orchestrator: keeps its trips in memory, so it has no state store and
  #     runs as one replica: a second would not know the first's trips
  #     (README, "Three styles"; TestTwoCoordinatorReplicas).
  #   workflow: Dapr Workflow keeps each trip's workflow as actor state in
  #     workflow-store (actor_state_store); Container Apps runs Dapr's
  #     placement and scheduler for the environment.
  coordinators = {
    orchestrator = {
      port              = 8080
      external          = true
      publishes         = []
      subscribes        = []
      state_store       = ""
      actor_state_store = false
      max_replicas      = 1
      extra_env         = {}
    }
    workflow = {
      port              = 8080
      external          = true
      publishes         = []
      subscribes        = []
      state_store       = "workflow-store"
      actor_state_store = true
      max_replicas      = var.max_replicas
      extra_env         = {}
    }
  }

  # The Dapr app id that serves the Trip API in var.style.
  coordinator = { choreography = "trip", orchestration = "orchestrator", workflow = "workflow" }[var.style]

  # The apps of var.style: the services, with the coordinator in the trip
  # service's place, and without those that run in the choreography only.
  apps = merge(
    { for name, a in local.services : name => merge(a, { actor_state_store = false, max_replicas = var.max_replicas }) if !a.choreography_only || local.coordinator == "trip" },
    { for name, a in local.coordinators : name => a if name == local.coordinator },
  )

  # Minimum replicas of each app: var.min_replicas, the Trip API's for the
  # coordinator; at least one for driver and notification when a
  # coordinator invokes them (a service invocation does not wake an app
  # scaled to zero).
  min_replicas = {
    for name in keys(local.apps) : name => (
      name == local.coordinator ? var.min_replicas.trip :
      local.coordinator == "trip" ? var.min_replicas[name] : max(1, var.min_replicas[name])
    )
  }

  # The apps that receive events, and so hold the pub/sub component and a
  # dead-letter topic.
  subscribers = [for name, a in local.apps : name if length(a.subscribes) > 0]

  # Dapr moves an event a service answers DROP for to "<app>-dead-letters"
  # (every subscription names it), and the service subscribes to its own
  # dead-letter topic to store and list those events (GET /dead-letters).
  dead_letter_topics = { for app in local.subscribers : app => "${app}-dead-letters" }

  topics = concat(local.event_topics, values(local.dead_letter_topics))

  # Who may publish and receive each topic, as in components/pubsub.yaml
  # and every file of components/brokers/: every topic is protected, and
  # each app may use only its own, its dead-letter topic included (its
  # sidecar publishes there on its behalf); an app with none is named with
  # nothing after "=". deploy_test.go holds these to
  # components/brokers/servicebus.yaml.
  own_dead_letters    = { for app in keys(local.apps) : app => contains(local.subscribers, app) ? [local.dead_letter_topics[app]] : [] }
  protected_topics    = join(",", local.topics)
  publishing_scopes   = join(";", [for app, a in local.apps : "${app}=${join(",", concat(a.publishes, local.own_dead_letters[app]))}"])
  subscription_scopes = join(";", [for app, a in local.apps : "${app}=${join(",", concat(a.subscribes, local.own_dead_letters[app]))}"])

  # One entry per (topic, subscriber): the Service Bus subscription, and the
  # KEDA scale rule on its backlog. Keyed "<topic>/<app>".
  subscriptions = merge([
    for app, a in local.apps : {
      for topic in concat(a.subscribes, [local.dead_letter_topics[app]]) :
      "${topic}/${app}" => { app = app, topic = topic }
    } if length(a.subscribes) > 0
  ]...)

  # Must equal the maxDeliveryCount of the pubsub component (and of
  # components/brokers/servicebus.yaml): Service Bus applies the value set
  # on the subscription, which Terraform creates, not the sidecar.
  # A RETRY answer does not count: the sidecar retries inside one delivery
  # (resiliency/pubsub.yaml) and past that window sends the event to
  # <app>-dead-letters. A delivery counts when it ends unanswered: the
  # replica is stopped mid-retry (KEDA scaling in, a new revision, the
  # restarts after applying the resiliency policy), the sidecar dies and the
  # lock expires, or the dead-letter publish fails. 20 leaves room for a few
  # of those in a row around a deployment before Service Bus moves a healthy
  # event to the subscription's own dead-letter queue, which no service reads.
  max_delivery_count = 20

  # handlerTimeoutInSec of the pubsub component (and of
  # components/brokers/servicebus.yaml): the component cancels a delivery's
  # context after it. Dapr runs the inbound retries outside that context but
  # publishes to <app>-dead-letters with it, so a timeout shorter than the
  # retry window turns "dead-letter it" into a Service Bus redelivery. The
  # default (60) is shorter than resiliency/pubsub.yaml's window and than the
  # local policy's (Dapr stops exponential retries after 15 minutes);
  # deploy_test.go holds it above the window.
  servicebus_handler_timeout_in_sec = 1800

  # The environment variables every service reads (docs/conventions.md,
  # services/*/config.go). DAPR_* are the ports of the Dapr sidecar that
  # Container Apps runs next to the app.
  common_env = {
    APP_HOST         = "0.0.0.0"
    DAPR_HOST        = "127.0.0.1"
    DAPR_HTTP_PORT   = "3500"
    DAPR_GRPC_PORT   = "50001"
    PUBSUB_NAME      = "pubsub"
    SIDECAR_WAIT     = "60s"
    SHUTDOWN_TIMEOUT = "4s"
    LOG_LEVEL        = var.log_level
    # The share of new traces kept (README, "Read one trip's trace"); the
    # sidecars follow each trace's decision.
    OTEL_TRACES_SAMPLER_ARG     = tostring(var.trace_sample_ratio)
    OTEL_EXPORTER_OTLP_ENDPOINT = var.otlp_endpoint
    # Riders' bearer tokens (README, "Security"), and dispatchers' (the
    # same issuer, with the app role "dispatcher"): the driver service,
    # which serves neither, ignores them.
    AUTH_ISSUER   = var.auth_issuer
    AUTH_AUDIENCE = var.auth_audience
    AUTH_JWKS_URL = var.auth_jwks_url == "" ? "${trimsuffix(var.auth_issuer, "/")}/.well-known/jwks.json" : var.auth_jwks_url
  }
}
