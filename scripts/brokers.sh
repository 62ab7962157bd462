#!/usr/bin/env bash
# Makes sure the brokers of the broker matrix (make test-brokers) are
# installed: RabbitMQ, Mosquitto (MQTT) and nats-server (NATS JetStream),
# from Debian packages, plus redis-server, the state store. Installs what is
# missing when run as root; otherwise says what to install. The tests start
# each broker themselves, on free loopback ports with their data in a
# temporary folder; the system services the packages bring are not used
# (and Debian does not start them where no init system runs).
#
# Kafka needs nothing here: no Kafka broker is packaged for Debian, so the
# tests run kfake, a Kafka protocol implementation in Go, inside the test.
set -euo pipefail

say() { printf 'brokers.sh: %s\n' "$*" >&2; }

# package:command pairs; the command shows the package is installed.
wanted=(
	redis-server:redis-server
	rabbitmq-server:/usr/lib/rabbitmq/bin/rabbitmq-server
	mosquitto:mosquitto
	nats-server:nats-server
)
missing=()
for pair in "${wanted[@]}"; do
	pkg=${pair%%:*} cmd=${pair#*:}
	command -v "$cmd" >/dev/null || missing+=("$pkg")
done
if [[ ${#missing[@]} -eq 0 ]]; then
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	say "missing: ${missing[*]}. Install them, then run this again:"
	say "    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
	exit 1
fi
say "installing ${missing[*]} from Debian packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
