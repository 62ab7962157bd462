#!/usr/bin/env bash
# `make run`: the four services, each with its Dapr sidecar, in the
# foreground until Ctrl-C, on a machine with only Go and Debian packages.
# The fourth, dispatch (the dispatchers' board, http://localhost:8083), draws
# the choreography's events, so it runs with STYLE=choreography only.
# Obtains daprd 1.17 and the Dapr CLI 1.12 (installed, or built from the Go
# module proxy once and cached), makes sure Redis listens on 127.0.0.1:6379,
# then runs `dapr run -f` with a copy of dapr.yaml that points at the
# resources below. App and sidecar logs go to services/<name>/.dapr/logs/.
#
# STYLE picks who coordinates a trip (README, "Three styles"):
#   choreography (default)  the trip service; the services talk through events
#   orchestration           services/orchestrator in the trip service's place,
#                           on the same port, calling the other services' steps
#   workflow                services/workflow in its place: a Dapr Workflow
#                           calling the same steps; this script then also
#                           builds (once) and starts Dapr's placement
#                           (127.0.0.1:50005) and scheduler (127.0.0.1:50006)
# The other two publish no events, so the dispatch service, which only reads
# them, is left out of their runs.
#
# BROKER picks the pub/sub component, without code or service changes:
#   redis (default)  components/pubsub.yaml
#   rabbitmq, kafka, nats, mqtt, servicebus
#                    components/brokers/$BROKER.yaml
# The sidecars load a resources folder built under the cache: every
# components/*.yaml except pubsub.yaml, plus the chosen broker's file (named
# pubsub.yaml). State stays in Redis whichever broker carries the events.
# This script starts Redis but no other broker: it says which server must be
# listening and which variable points the component at it.
#
# Credentials: the components read them from the Dapr secret store
# (components/secretstore.yaml), which is each sidecar's environment, and
# the CLI hands the sidecars this script's: export REDIS_PASSWORD (Redis,
# whichever broker), RABBITMQ_USERNAME and RABBITMQ_PASSWORD, or a NATS_URL
# or MQTT_URL with user:password@ in it, before `make run`. Unset, there are
# none (and RabbitMQ's guest). A Redis this script starts requires
# REDIS_PASSWORD when it is set (scripts/redis.sh); the backlog exporter
# reads the same variable.
#
# It starts Jaeger v2 (built from the Go module proxy once, about 6 minutes,
# then cached; scripts/jaeger.sh) with tools/jaeger/config.yaml: OTLP in on
# 127.0.0.1:4317, where the services and the sidecars export their spans
# (OTEL_EXPORTER_OTLP_ENDPOINT), and the query API on 127.0.0.1:16686, which
# `make trace TRIP=<id>` reads. Its log: $cache/jaeger.log.
#
# With BROKER=redis it also builds and starts the backlog exporter
# (backlog/): on http://127.0.0.1:9099/metrics, how many events wait for each
# subscription, read from Redis (ride_backlog_lag, ride_backlog_pending). It
# reads Redis Streams only, so with another broker it is not started.
set -euo pipefail
# Go 1.27.3, whose standard library fixes 1.26.8's known vulnerabilities
# (the Makefile says more); exported here too for runs by hand.
export GOTOOLCHAIN=go1.27.3

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography
say() { printf 'run.sh: %s\n' "$*" >&2; }

brokers=(redis rabbitmq kafka nats mqtt servicebus)
broker=${BROKER:-redis}
style=${STYLE:-choreography}
case $style in
choreography | orchestration | workflow) ;;
*)
	say "unknown STYLE=$style; choose choreography, orchestration or workflow"
	exit 1
	;;
esac

# broker_listening HOST:PORT: does something accept connections there?
broker_listening() {
	local host=${1%:*} port=${1##*:}
	(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# need_server NAME VAR DEFAULT PROBE: exports VAR (DEFAULT when unset) for
# the sidecars, whose component reads it (envRef), and fails unless
# something listens on PROBE (host:port, the address VAR names).
need_server() {
	local name=$1 var=$2 default=$3 addr
	addr=${!var:-$default}
	export "$var=$addr"
	say "broker $broker: the sidecars connect to $name at $var=$addr (set $var to point elsewhere)"
	if ! broker_listening "$4"; then
		say "nothing listens on $4: start $name there, or set $var; this script installs no broker"
		exit 1
	fi
}

case $broker in
redis) ;;
rabbitmq)
	need_server "a RabbitMQ server (Debian: rabbitmq-server)" RABBITMQ_HOST 127.0.0.1:5672 \
		"${RABBITMQ_HOST:-127.0.0.1:5672}"
	say "the sidecars sign in as ${RABBITMQ_USERNAME:-guest} (RABBITMQ_USERNAME, RABBITMQ_PASSWORD; the secret store reads them)"
	;;
kafka)
	brokers_addr=${KAFKA_BROKERS:-127.0.0.1:9092}
	need_server "a Kafka broker" KAFKA_BROKERS 127.0.0.1:9092 "${brokers_addr%%,*}"
	;;
nats)
	addr=${NATS_URL:-nats://127.0.0.1:4222}
	addr=${addr#*://}
	need_server "nats-server with JetStream (nats-server -js; Debian: nats-server)" NATS_URL \
		nats://127.0.0.1:4222 "${addr##*@}"
	say "create one stream per topic first (see components/brokers/nats.yaml), or what is published is lost"
	;;
mqtt)
	addr=${MQTT_URL:-tcp://127.0.0.1:1883}
	addr=${addr#*://}
	need_server "an MQTT broker (Debian: mosquitto)" MQTT_URL tcp://127.0.0.1:1883 "${addr##*@}"
	say "warning: with MQTT a subscriber that is down can lose messages (components/brokers/mqtt.yaml)"
	;;
servicebus)
	if [[ -z ${SERVICEBUS_NAMESPACE:-} ]]; then
		say "broker servicebus: set SERVICEBUS_NAMESPACE to your namespace (e.g. ride.servicebus.windows.net);"
		say "the topics and one subscription per service must exist (components/brokers/servicebus.yaml),"
		say "and the sidecars sign in with AZURE_CLIENT_ID's managed identity or your az login"
		exit 1
	fi
	say "broker servicebus: the sidecars use Azure Service Bus $SERVICEBUS_NAMESPACE (SERVICEBUS_NAMESPACE)"
	;;
inmemory)
	say "BROKER=inmemory delivers only within one sidecar: across these three services a publish"
	say "succeeds and nothing arrives, so make run refuses it (components/brokers/inmemory.yaml)"
	exit 1
	;;
*)
	say "unknown BROKER=$broker; choose one of: ${brokers[*]}"
	say "(components/brokers/inmemory.yaml is for single-sidecar demos only)"
	exit 1
	;;
esac

daprd=$("$root/scripts/daprd.sh")
if [[ $broker == nats ]] && ! grep -aq 'components-contrib/pubsub/jetstream' "$daprd"; then
	say "$daprd does not register pubsub.jetstream (a build with -tags stablecomponents leaves it out);"
	say "unset DAPRD to use the project's build (tools/daprd registers it), or point it at a Dapr release"
	exit 1
fi
cli=$("$root/scripts/dapr-cli.sh")
jaeger=$("$root/scripts/jaeger.sh")
if [[ $style == workflow ]]; then
	controlplane=$("$root/scripts/dapr-control-plane.sh")
fi
"$root/scripts/redis.sh"

# The development issuer of riders' tokens (devissuer/).
issuer_port=8090

# The ports dapr.yaml names: apps, sidecar HTTP and gRPC APIs, sidecar
# metrics; Jaeger's (OTLP gRPC and HTTP, query API HTTP and gRPC, health);
# the development issuer's; and the backlog exporter's, with Redis as the
# broker.
ports=(8080 8081 8082 3500 3501 3502 50001 50002 50003 9091 9092 9093 4317 4318 16686 16685 13133 "$issuer_port")
# The dispatch service's (app, sidecar HTTP and gRPC, sidecar metrics), in
# the choreography, the one style it runs in.
dispatch_port=8083
if [[ $style == choreography ]]; then
	ports+=("$dispatch_port" 3503 50004 9094)
fi
# With STYLE=workflow, placement and scheduler, and their health, metrics,
# raft and etcd ports.
if [[ $style == workflow ]]; then
	ports+=(50005 50006 58080 58081 59095 59096 58201 52379 52380)
fi
backlog_port=9099
if [[ $broker == redis ]]; then
	ports+=("$backlog_port")
fi
busy=()
for port in "${ports[@]}"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		busy+=("$port")
	fi
done
if ((${#busy[@]} > 0)); then
	say "these ports are in use, so the services, their sidecars or the backlog exporter cannot start: ${busy[*]}"
	if command -v ss >/dev/null; then
		for port in "${busy[@]}"; do ss -Hltnp "sport = :$port" >&2 || true; done
	fi
	say "stop whatever holds them (an earlier run?) and try again"
	exit 1
fi

# The backlog exporter, built from the workspace as `go run` builds the
# services, and run as a binary below so that a signal reaches it, not a
# `go run` in between. Built before anything starts: a failed build leaves
# nothing running.
mkdir -p "$root/.bin"
if [[ $broker == redis ]]; then
	say "building the backlog exporter (backlog/) into .bin/backlog"
	(cd "$root/backlog" && go build -o "$root/.bin/backlog" .)
fi
say "building the development issuer (devissuer/) into .bin/devissuer"
(cd "$root/devissuer" && go build -o "$root/.bin/devissuer" .)

# With -f, the CLI 1.12 ignores --runtime-path and runs
# $DAPR_RUNTIME_PATH/.dapr/bin/daprd, so give it that layout.
runtime=$cache/runtime
mkdir -p "$runtime/.dapr/bin"
ln -sfn "$daprd" "$runtime/.dapr/bin/daprd"
export DAPR_RUNTIME_PATH=$runtime
# The components read the Redis address from REDIS_HOST (envRef), and its
# password, REDIS_PASSWORD if you set one, through the secret store; daprd
# inherits both from the CLI.
export REDIS_HOST=127.0.0.1:6379
if [[ -n ${REDIS_PASSWORD:-} ]]; then
	say "the sidecars and the backlog exporter sign in to Redis with REDIS_PASSWORD"
fi

# The resources the sidecars load: components/ with the chosen broker as
# pubsub, and a run template like dapr.yaml that points at them.
resources=$cache/resources/$broker
rm -rf "$resources"
mkdir -p "$resources"
for f in "$root"/components/*.yaml; do
	[[ $(basename "$f") == pubsub.yaml ]] || cp "$f" "$resources/"
done
if [[ $broker == redis ]]; then
	cp "$root/components/pubsub.yaml" "$resources/pubsub.yaml"
else
	cp "$root/components/brokers/$broker.yaml" "$resources/pubsub.yaml"
fi
template=$cache/dapr-$broker-$style.yaml
# In the orchestration and workflow styles the orchestrator or the workflow
# app plays the trip service's part, and the dispatch service, which reads
# the events those styles do not publish, is left out of the template.
coordinator=(-e '')
apps=(trip driver notification dispatch)
case $style in
orchestration | workflow)
	app=${style/orchestration/orchestrator}
	apps=("$app" driver notification)
	coordinator=(-e "s#^  - appID: trip\$#  - appID: $app#" -e "s#^\(    appDirPath:\) services/trip\$#\1 services/$app#"
		-e '/^  - appID: dispatch$/,/^    command:/d')
	;;
esac
sed "${coordinator[@]}" \
	-e "s#^\(  resourcesPath:\) ./components\$#\1 $resources#" \
	-e "s#^\(  configFilePath:\) ./components/config.yaml\$#\1 $resources/config.yaml#" \
	-e "s#^\(    appDirPath:\) \(services/.*\)\$#\1 $root/\2#" \
	"$root/dapr.yaml" >"$template"
if grep -v '^ *#' "$template" | grep -qF -e ' ./components' -e 'appDirPath: services/'; then
	say "cannot point $template at $resources: dapr.yaml changed shape"
	exit 1
fi
# The template runs exactly the apps of this style.
template_apps=$(sed -n 's/^  - appID: \(.*\)$/\1/p' "$template" | sort | tr '\n' ' ')
style_apps=$(printf '%s\n' "${apps[@]}" | sort | tr '\n' ' ')
if [[ $template_apps != "$style_apps" ]]; then
	say "cannot make $template run ${apps[*]}: it runs $template_apps(dapr.yaml changed shape)"
	exit 1
fi

printf '\nStarting %s, each with a Dapr sidecar (dapr run -f).\n' "${apps[*]}"
cat <<'BANNER'
  Trip API        http://localhost:8080   (POST /trips, GET /trips/{id})
  Drivers         http://localhost:8081/drivers
  Notifications   http://localhost:8082/riders/{riderId}/notifications  (and .../stream)
  Riders' tokens  http://localhost:8090/token?sub=<riderId>  (development issuer: anyone gets any rider's)
Order a taxi once they are ready, as rider-42:
  TOKEN=$(curl -s 'http://localhost:8090/token?sub=rider-42')
  curl -si -X POST http://localhost:8080/trips -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"pickup":{"lat":50.0755,"lon":14.4378},"dropoff":{"lat":50.1,"lon":14.26}}'
  curl -s -H "Authorization: Bearer $TOKEN" http://localhost:8080/trips/<tripId from the answer>
  curl -s -H "Authorization: Bearer $TOKEN" http://localhost:8082/riders/rider-42/notifications
Read the trip's trace (every service and sidecar it went through):
  make trace TRIP=<tripId>
Logs: services/<name>/.dapr/logs/. Stop with Ctrl-C.
BANNER
if [[ $style == choreography ]]; then
	cat <<'BANNER'
The dispatchers' board (the dispatch service): http://localhost:8083
  get a dispatcher's token:  curl -s 'http://localhost:8090/token?sub=dispatcher-1&role=dispatcher'
  then paste it at http://localhost:8083/signin
BANNER
else
	printf 'The dispatchers'"'"' board is not started: STYLE=%s publishes none of the events it draws\n' "$style"
fi
printf 'Sidecars (ports 3500-%s) want this run'"'"'s token: . %s && curl -s -H "dapr-api-token: $DAPR_API_TOKEN" localhost:3500/v1.0/metadata\n' "$((3499 + ${#apps[@]}))" "$cache/run-tokens"
printf 'Style: %s (STYLE=choreography|orchestration|workflow)\n' "$style"
printf 'Broker: %s (the pubsub component in %s)\n' "$broker" "$resources"
if [[ $broker == redis ]]; then
	printf 'Backlog: http://localhost:%s/metrics  (events waiting per subscription: curl -s ... | grep ^ride_backlog)\n\n' "$backlog_port"
else
	printf 'Backlog: not started: the backlog exporter reads Redis Streams only, and the broker is %s\n\n' "$broker"
fi

cd "$root"
# The CLI puts itself and everything it starts into a process group of its
# own, which a Ctrl-C on the terminal does not reach, and it stops the apps
# with SIGKILL, which leaves the programs `go run` started running. So run it
# in the background and, on Ctrl-C, interrupt its whole group: each service
# and sidecar shuts down gracefully.
# Jaeger first, so that no span is lost: the services and the sidecars
# (daprd reads the variable too) export to it.
"$jaeger" --config "$root/tools/jaeger/config.yaml" >"$cache/jaeger.log" 2>&1 &
jaeger_pid=$!
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317

# Dapr's placement and scheduler, for the workflow app's sidecar: the CLI
# passes placement's default address (localhost:50005) to every sidecar, and
# daprd takes the scheduler's from this variable.
controlplane_pids=()
if [[ $style == workflow ]]; then
	mkdir -p "$cache/workflow"
	"$controlplane/placement" --port 50005 --listen-address 127.0.0.1 \
		--healthz-port 58080 --healthz-listen-address 127.0.0.1 --metrics-port 59095 --metrics-listen-address 127.0.0.1 \
		--initial-cluster dapr-placement-0=127.0.0.1:58201 --raft-logstore-path "$cache/workflow/placement" \
		>"$cache/workflow/placement.log" 2>&1 &
	controlplane_pids+=($!)
	"$controlplane/scheduler" --port 50006 --listen-address 127.0.0.1 \
		--healthz-port 58081 --healthz-listen-address 127.0.0.1 --metrics-port 59096 --metrics-listen-address 127.0.0.1 \
		--etcd-data-dir "$cache/workflow/scheduler" --etcd-client-port 52379 --etcd-client-listen-address 127.0.0.1 \
		--etcd-initial-cluster dapr-scheduler-server-0=http://127.0.0.1:52380 \
		>"$cache/workflow/scheduler.log" 2>&1 &
	controlplane_pids+=($!)
	export DAPR_SCHEDULER_HOST_ADDRESS_DNS_A=127.0.0.1:50006
	say "Dapr placement and scheduler started for the workflow app (logs in $cache/workflow/)"
fi

# The tokens the sidecars and the services trust each other by, new for
# each run: every sidecar requires DAPR_API_TOKEN of whoever calls it, and
# sends APP_API_TOKEN with every call to its app, which refuses calls
# without it. The CLI gives the apps and their sidecars its own
# environment, so the three pairs share these two. They are in no file of
# the repository: $cache/run-tokens (readable by you alone) holds them for
# the curl calls to a sidecar, and for a service started by hand, until the
# next run.
new_token() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
APP_API_TOKEN=$(new_token)
DAPR_API_TOKEN=$(new_token)
export APP_API_TOKEN DAPR_API_TOKEN
(
	umask 077
	printf 'export APP_API_TOKEN=%s DAPR_API_TOKEN=%s\n' "$APP_API_TOKEN" "$DAPR_API_TOKEN" >"$cache/run-tokens"
)

# The development issuer of riders' tokens, which the services verify as
# they would Entra ID's. Its key is kept in $cache (readable by you alone),
# so that a token outlives a restart of the run for its hour.
APP_HOST=127.0.0.1 APP_PORT=$issuer_port ISSUER_KEY_FILE=$cache/dev-issuer-key.pem "$root/.bin/devissuer" >"$cache/devissuer.log" 2>&1 &
issuer_pid=$!
export AUTH_ISSUER=http://127.0.0.1:$issuer_port

"$cli" run -f "$template" &
cli_pid=$!

# The backlog exporter (built above) logs to this terminal; BACKLOG_TOPICS
# passes through.
backlog_pid=
if [[ $broker == redis ]]; then
	APP_HOST=127.0.0.1 APP_PORT=$backlog_port "$root/.bin/backlog" &
	backlog_pid=$!
fi

# stop interrupts the CLI's process group and waits for it to end. The
# services shut down within 4s. The CLI 1.12 acts on a signal only once it
# has started every app, and then it retries calls to sidecars that are
# already gone, so whatever is left after 6s is killed.
stop() {
	trap '' INT TERM
	say "stopping"
	kill -INT -- "-$cli_pid" 2>/dev/null || kill -INT "$cli_pid" 2>/dev/null || true
	if [[ -n $backlog_pid ]]; then
		kill -TERM "$backlog_pid" 2>/dev/null || true
	fi
	for _ in $(seq 1 60); do
		if ! kill -0 -- "-$cli_pid" 2>/dev/null && ! { [[ -n $backlog_pid ]] && kill -0 "$backlog_pid" 2>/dev/null; }; then
			# Jaeger last: it receives the spans the services flush at exit.
			kill -TERM "$jaeger_pid" "$issuer_pid" "${controlplane_pids[@]}" 2>/dev/null || true
			return 0
		fi
		sleep 0.1
	done
	say "killing what is left of the run after 6s"
	kill -KILL -- "-$cli_pid" 2>/dev/null || true
	kill -KILL "$jaeger_pid" "$issuer_pid" "${controlplane_pids[@]}" 2>/dev/null || true
	if [[ -n $backlog_pid ]]; then
		kill -KILL "$backlog_pid" 2>/dev/null || true
	fi
}
trap 'stop; exit 0' INT # Ctrl-C is how a run ends
trap 'stop; exit 143' TERM

# http_get PORT PATH prints the answer to GET PATH on 127.0.0.1:PORT
# (plain bash, since a fresh machine may have no curl).
http_get() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET %s HTTP/1.0\r\nHost: localhost\r\ndapr-api-token: %s\r\n\r\n' "$2" "$DAPR_API_TOKEN" >&3
		timeout 2 cat <&3
	) 2>/dev/null
}

# The services' ports, which ready asks.
app_ports=(8080 8081 8082)
if [[ $style == choreography ]]; then
	app_ports+=("$dispatch_port")
fi

# ready: every service answers /readyz, and the CLI has finished starting
# (its last step for each app is to record the app's process id in the
# sidecar's metadata, and until then it does not act on Ctrl-C). The CLI
# 1.12 sends no token, so the sidecar refuses that record; the step is
# logged in the app's daprd log of this run all the same.
ready() {
	local port answer app log
	for port in "${app_ports[@]}"; do
		answer=$(http_get "$port" /readyz) || return 1
		[[ $answer == "HTTP/1."?" 200 "* ]] || return 1
	done
	for app in "${apps[@]}"; do
		log=$(find "$root/services/$app/.dapr/logs" -name "${app}_daprd_*.log" -newer "$cache/run-tokens" 2>/dev/null | sort | tail -1)
		[[ -n $log ]] && grep -q 'Updating metadata for appPID' "$log" || return 1
	done
	if [[ -n $backlog_pid ]]; then
		answer=$(http_get "$backlog_port" /healthz) || return 1
		[[ $answer == "HTTP/1."?" 200 "* ]] || return 1
	fi
	answer=$(http_get 13133 /status) || return 1
	[[ $answer == "HTTP/1."?" 200 "* ]] || return 1
	answer=$(http_get "$issuer_port" /healthz) || return 1
	[[ $answer == "HTTP/1."?" 200 "* ]] || return 1
}

(
	# Tell the user when everything answers, or that it does not yet.
	for _ in $(seq 1 240); do
		if ready; then
			say "all ${#apps[@]} services are ready: http://localhost:8080"
			if [[ -n $backlog_pid ]]; then
				say "the backlog exporter is ready: http://localhost:$backlog_port/metrics"
			fi
			say "Jaeger is ready: make trace TRIP=<tripId>, or http://localhost:16686/api/traces?service=trip"
			say "riders' tokens: TOKEN=\$(curl -s 'http://localhost:$issuer_port/token?sub=rider-42')"
			if [[ $style == choreography ]]; then
				say "the dispatchers' board is ready: http://localhost:$dispatch_port"
				say "  a dispatcher's token: curl -s 'http://localhost:$issuer_port/token?sub=dispatcher-1&role=dispatcher'"
				say "  then paste it at http://localhost:$dispatch_port/signin"
			fi
			exit 0
		fi
		sleep 0.5
	done
	say "not every service answers /readyz after 2 minutes; see services/<name>/.dapr/logs/"
) &
watcher=$!

status=0
wait "$cli_pid" || status=$?
kill "$watcher" 2>/dev/null || true
# The CLI ended on its own (an app or sidecar failed): leave nothing behind.
stop
exit "$status"
