#!/usr/bin/env bash
# Makes sure a Redis answers on 127.0.0.1:6379, the address the components in
# components/ use by default (what `dapr init` gives every Dapr user):
#   - installs redis-server from Debian packages when it is missing (as root;
#     otherwise says how to install it);
#   - uses a Redis that already listens there;
#   - else starts one, daemonized, with its pidfile, log and data in
#     ${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/redis, with AOF
#     persistence fsynced on every write, as the broker-restart test runs it
#     (so trips, notifications and undelivered events survive a restart;
#     delete that folder to start afresh).
# With REDIS_PASSWORD set, a Redis it starts requires that password (handed
# to redis-server on stdin, never on its command line), and one already
# listening must accept it; unset, none (what the components read through
# the secret store, components/secretstore.yaml).
# With --installed it only makes sure redis-server is installed: the
# end-to-end tests and the benchmark start Redis servers of their own.
# Stop the one this script started with: redis-cli -p 6379 shutdown (with
# REDISCLI_AUTH=$REDIS_PASSWORD in front when it requires a password)
set -euo pipefail

host=127.0.0.1
port=6379
dir=${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/redis
say() { printf 'redis.sh: %s\n' "$*" >&2; }

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	if [[ $(id -u) -ne 0 ]]; then
		say "redis-server is not installed. Install it, then run this again:"
		say "    sudo apt-get update && sudo apt-get install -y redis-server"
		say "(or run any Redis you like on $host:$port)"
		exit 1
	fi
	say "installing redis-server from Debian packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi

if [[ ${1:-} == --installed ]]; then
	exit 0
fi

# listening: does anything accept TCP connections on host:port?
listening() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

# redis_ping prints what Redis answers to PING, and any complaint about signing
# in, with REDIS_PASSWORD when it is set (redis-cli takes it from
# REDISCLI_AUTH, which keeps it off the command line).
redis_ping() {
	if [[ -n ${REDIS_PASSWORD:-} ]]; then
		REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -h "$host" -p "$port" ping 2>&1
	else
		redis-cli -h "$host" -p "$port" ping 2>&1
	fi
}

if listening; then
	answer=$(redis_ping || true)
	case $answer in
	PONG)
		say "using the Redis already listening on $host:$port"
		exit 0
		;;
	*WRONGPASS*)
		say "the Redis on $host:$port refuses REDIS_PASSWORD: it has another password"
		;;
	*NOAUTH*)
		say "the Redis on $host:$port wants a password: export REDIS_PASSWORD (the components read it through the secret store)"
		;;
	*"without any password configured"*)
		say "the Redis on $host:$port has no password, but REDIS_PASSWORD is set: unset it, or give that Redis the password (CONFIG SET requirepass)"
		;;
	*)
		say "something listens on $host:$port but does not answer PING like Redis; stop it or free the port"
		;;
	esac
	exit 1
fi

mkdir -p "$dir"
say "starting redis-server on $host:$port (log: $dir/redis.log)"
# Its settings from stdin ("-"): the password, if any, as a config line
# (quoted, with \ and " escaped), so that no process list shows it.
password=${REDIS_PASSWORD:-}
password=${password//\\/\\\\}
password=${password//\"/\\\"}
if [[ -n $password ]]; then
	say "it requires REDIS_PASSWORD"
	printf 'requirepass "%s"\n' "$password"
fi | redis-server - --bind "$host" --port "$port" --daemonize yes \
	--pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
	--save "" --appendonly yes --appendfsync always >/dev/null # "Reading config from stdin"
for _ in $(seq 1 50); do
	if [[ "$(redis_ping)" == PONG ]]; then
		exit 0
	fi
	sleep 0.1
done
say "redis-server did not answer on $host:$port within 5s; see $dir/redis.log"
exit 1
