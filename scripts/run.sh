#!/usr/bin/env bash
# `make run`: the three services, each with its Dapr sidecar, in the
# foreground until Ctrl-C, on a machine with only Go and Debian packages.
# Obtains daprd 1.17 and the Dapr CLI 1.12 (installed, or built from the Go
# module proxy once and cached), makes sure Redis listens on 127.0.0.1:6379,
# then runs `dapr run -f .` (dapr.yaml). App and sidecar logs go to
# services/<name>/.dapr/logs/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography
say() { printf 'run.sh: %s\n' "$*" >&2; }

daprd=$("$root/scripts/daprd.sh")
cli=$("$root/scripts/dapr-cli.sh")
"$root/scripts/redis.sh"

# The ports dapr.yaml names: apps, sidecar HTTP and gRPC APIs.
busy=()
for port in 8080 8081 8082 3500 3501 3502 50001 50002 50003; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		busy+=("$port")
	fi
done
if ((${#busy[@]} > 0)); then
	say "these ports are in use, so the services or their sidecars cannot start: ${busy[*]}"
	if command -v ss >/dev/null; then
		for port in "${busy[@]}"; do ss -Hltnp "sport = :$port" >&2 || true; done
	fi
	say "stop whatever holds them (an earlier run?) and try again"
	exit 1
fi

# With -f, the CLI 1.12 ignores --runtime-path and runs
# $DAPR_RUNTIME_PATH/.dapr/bin/daprd, so give it that layout.
runtime=$cache/runtime
mkdir -p "$runtime/.dapr/bin"
ln -sfn "$daprd" "$runtime/.dapr/bin/daprd"
export DAPR_RUNTIME_PATH=$runtime
# The components read the Redis address from REDIS_HOST (envRef); daprd
# inherits it from the CLI.
export REDIS_HOST=127.0.0.1:6379

cat <<'BANNER'

Starting trip, driver and notification, each with a Dapr sidecar (dapr run -f .).
  Trip API        http://localhost:8080   (POST /trips, GET /trips/{id})
  Drivers         http://localhost:8081/drivers
  Notifications   http://localhost:8082/riders/{riderId}/notifications  (and .../stream)
Order a taxi once they are ready:
  curl -si -X POST http://localhost:8080/trips -H 'Content-Type: application/json' \
    -d '{"riderId":"rider-42","pickup":{"lat":50.0755,"lon":14.4378},"dropoff":{"lat":50.1,"lon":14.26}}'
  curl -s http://localhost:8080/trips/<tripId from the answer>
  curl -s http://localhost:8082/riders/rider-42/notifications
Logs: services/<name>/.dapr/logs/. Stop with Ctrl-C.

BANNER

cd "$root"
# The CLI puts itself and everything it starts into a process group of its
# own, which a Ctrl-C on the terminal does not reach, and it stops the apps
# with SIGKILL, which leaves the programs `go run` started running. So run it
# in the background and, on Ctrl-C, interrupt its whole group: each service
# and sidecar shuts down gracefully.
"$cli" run -f . &
cli_pid=$!

# stop interrupts the CLI's process group and waits for it to end. The
# services shut down within 4s. The CLI 1.12 acts on a signal only once it
# has started every app, and then it retries calls to sidecars that are
# already gone, so whatever is left after 6s is killed.
stop() {
	trap '' INT TERM
	say "stopping"
	kill -INT -- "-$cli_pid" 2>/dev/null || kill -INT "$cli_pid" 2>/dev/null || true
	for _ in $(seq 1 60); do
		kill -0 -- "-$cli_pid" 2>/dev/null || return 0
		sleep 0.1
	done
	say "killing what is left of the run after 6s"
	kill -KILL -- "-$cli_pid" 2>/dev/null || true
}
trap 'stop; exit 0' INT # Ctrl-C is how a run ends
trap 'stop; exit 143' TERM

# http_get PORT PATH prints the answer to GET PATH on 127.0.0.1:PORT
# (plain bash, since a fresh machine may have no curl).
http_get() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$2" >&3
		timeout 2 cat <&3
	) 2>/dev/null
}

# ready: every service answers /readyz, and the CLI has finished starting
# (it records each app's process id in its sidecar's metadata last; until
# then it does not act on Ctrl-C).
ready() {
	local port answer
	for port in 8080 8081 8082; do
		answer=$(http_get "$port" /readyz) || return 1
		[[ $answer == "HTTP/1."?" 200 "* ]] || return 1
	done
	for port in 3500 3501 3502; do
		answer=$(http_get "$port" /v1.0/metadata) || return 1
		[[ $answer == *'"appPID"'* ]] || return 1
	done
}

(
	# Tell the user when everything answers, or that it does not yet.
	for _ in $(seq 1 240); do
		if ready; then
			say "all three services are ready: http://localhost:8080"
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
