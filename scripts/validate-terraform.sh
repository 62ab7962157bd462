#!/usr/bin/env bash
# Validates deploy/terraform offline with the real tools:
#   tofu fmt -check -recursive, tofu init -backend=false, tofu validate
# against the real azurerm provider schema, then the Go test in
# deploy/terraform for what validate cannot check. Nothing here talks to
# Azure or to a provider registry.
#
# Both binaries are built from the Go module proxy on first use and cached in
# ${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/bin (versions in the
# names):
#   tofu-<version>                           OpenTofu, through tools/opentofu
#                                            (about 5.5 minutes on 2 idle cores,
#                                            15 when they are busy)
#   terraform-provider-azurerm-<version>/    the azurerm provider, plain
#                                            `go install` of the only version
#                                            the proxy serves (about 10 minutes
#                                            on 2 idle cores, 25 when busy;
#                                            3.4 GB of memory)
# The CLI finds the provider through a filesystem mirror named in a CLI
# configuration written to a temporary directory; init and validate run on a
# copy of the configuration there, so no .terraform/ or lock file ends up in
# the repository.
# Set TOFU=/path/to/tofu to use another OpenTofu (or Terraform) binary.
set -euo pipefail
# Go 1.27.3, whose standard library fixes 1.26.8's known vulnerabilities
# (the Makefile says more); exported here too for runs by hand.
export GOTOOLCHAIN=go1.27.3

tofu_version=1.12.6
azurerm_module=github.com/hashicorp/terraform-provider-azurerm
# The provider's 5.x main line; the proxy serves no tagged release of it.
azurerm_version=v1.44.1-0.20260824201233-fae580791926
# The version the CLI sees (see the filesystem mirror below).
azurerm_mirror_version=5.2.0

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
config_dir=$root/deploy/terraform
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ride-choreography/bin
go_platform() { echo "$(go env GOOS)_$(go env GOARCH)"; }
say() { printf 'validate-terraform.sh: %s\n' "$*" >&2; }

need_go() {
	if ! command -v go >/dev/null; then
		say "no cached $1 and no Go toolchain to build it; install Go 1.26 or later (the build takes Go 1.27.3 from the module proxy)"
		exit 1
	fi
}

# tofu_ok BINARY: does BINARY say it is OpenTofu $tofu_version?
# (Not the first line only: a missing CLI config file is warned about first.)
# The whole answer is read before matching it: grep -q stops reading at the
# match, the platform line after it then meets a closed pipe, and under
# pipefail tofu's SIGPIPE failed the check now and then (4 in 30 measured),
# which rebuilt a cached tofu, or failed a build that had worked.
tofu_ok() { [[ -x $1 ]] && grep -qx "OpenTofu v$tofu_version" <<<"$("$1" version 2>/dev/null)"; }

# Prints the path of OpenTofu $tofu_version, building it once.
tofu_path() {
	local cached=$cache/tofu-$tofu_version tmp start
	if tofu_ok "$cached"; then
		echo "$cached"
		return
	fi
	need_go "OpenTofu $tofu_version"
	mkdir -p "$cache"
	# One build at a time, and the binary appears whole or not at all.
	exec 8>"$cache/.tofu-$tofu_version.lock"
	flock 8
	if ! tofu_ok "$cached"; then
		say "building OpenTofu $tofu_version from the Go module proxy, about 5.5 minutes, cached afterwards in $cached"
		tmp=$(mktemp -d "$cache/.tofu-build.XXXXXX")
		start=$SECONDS
		(
			cd "$root/tools/opentofu"
			GOWORK=off CGO_ENABLED=0 go build -trimpath \
				-ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
				-o "$tmp/tofu" github.com/opentofu/opentofu/cmd/tofu
		) || { rm -rf "$tmp"; exit 1; }
		if ! tofu_ok "$tmp/tofu"; then
			rm -rf "$tmp"
			say "the build in tools/opentofu did not produce a tofu that reports version $tofu_version"
			exit 1
		fi
		mv "$tmp/tofu" "$cached"
		rm -rf "$tmp"
		say "built OpenTofu $tofu_version in $((SECONDS - start))s"
	fi
	exec 8>&-
	echo "$cached"
}

# Prints the directory holding terraform-provider-azurerm $azurerm_version,
# building it once.
provider_dir() {
	local dir=$cache/terraform-provider-azurerm-$azurerm_version tmp start
	if [[ -x $dir/terraform-provider-azurerm ]]; then
		echo "$dir"
		return
	fi
	need_go "azurerm provider $azurerm_version"
	mkdir -p "$cache"
	exec 7>"$cache/.terraform-provider-azurerm-$azurerm_version.lock"
	flock 7
	if [[ ! -x $dir/terraform-provider-azurerm ]]; then
		say "building the azurerm provider $azurerm_version from the Go module proxy, about 10 minutes and 3.4 GB of memory, cached afterwards in $dir"
		tmp=$(mktemp -d "$cache/.terraform-provider-azurerm-build.XXXXXX")
		start=$SECONDS
		# The provider's go.mod has no replace directives, so a plain
		# `go install module@version` builds it; no tool module needed.
		(
			cd "$tmp"
			GOWORK=off GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" \
				"$azurerm_module@$azurerm_version"
		) || { rm -rf "$tmp"; exit 1; }
		if [[ ! -x $tmp/terraform-provider-azurerm ]]; then
			rm -rf "$tmp"
			say "go install did not produce terraform-provider-azurerm"
			exit 1
		fi
		chmod 755 "$tmp" # mktemp -d made it private
		rm -rf "$dir"
		mv "$tmp" "$dir"
		say "built the azurerm provider in $((SECONDS - start))s"
	fi
	exec 7>&-
	echo "$dir"
}

if [[ -n "${TOFU:-}" ]]; then
	tofu=$TOFU
else
	tofu=$(tofu_path)
fi
provider=$(provider_dir)

work=$(mktemp -d "${TMPDIR:-/tmp}/validate-terraform.XXXXXX")
trap 'rm -rf "$work"' EXIT

# `tofu init` with dev_overrides still asks the registry (unreachable here)
# for the overridden provider, so the provider is offered through a
# filesystem mirror instead, and the registry is never contacted. A mirror
# needs a version: the provider's main line says 5.2.0 (its version/VERSION
# file at this commit), which satisfies the constraint in versions.tf.
mirror=$work/mirror
for host in registry.opentofu.org registry.terraform.io; do
	dir=$mirror/$host/hashicorp/azurerm/$azurerm_mirror_version/$(go_platform)
	mkdir -p "$dir"
	ln -s "$provider/terraform-provider-azurerm" "$dir/terraform-provider-azurerm_v$azurerm_mirror_version"
done
cat >"$work/tofurc" <<CONFIG
# Written by scripts/validate-terraform.sh; removed when it ends.
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.opentofu.org/hashicorp/azurerm", "registry.terraform.io/hashicorp/azurerm"]
  }
}
CONFIG
export TF_CLI_CONFIG_FILE=$work/tofurc
export TF_DATA_DIR=$work/data
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

# init and validate run on a copy, so neither .terraform/ nor a lock file
# (whose hashes would be of this local build, not of a registry release)
# is ever written into the repository.
mkdir "$work/config"
cp -R "$config_dir/." "$work/config/"
rm -rf "$work/config/.terraform" "$work/config/.terraform.lock.hcl"

say "$("$tofu" version | grep -m1 '^OpenTofu\|^Terraform'), azurerm $azurerm_version as $azurerm_mirror_version (filesystem mirror)"
say "tofu fmt -check -recursive"
if ! "$tofu" -chdir="$config_dir" fmt -check -recursive -diff; then
	say "formatting differs; run: tofu -chdir=deploy/terraform fmt -recursive"
	exit 1
fi
say "tofu init -backend=false"
if ! "$tofu" -chdir="$work/config" init -backend=false -no-color >"$work/init.log" 2>&1; then
	cat "$work/init.log" >&2
	exit 1
fi
say "tofu validate"
"$tofu" -chdir="$work/config" validate -no-color
say "tofu test: plan each style (variable style) against a mock azurerm provider"
"$tofu" -chdir="$work/config" test -no-color

# What validate cannot see: the configuration against contracts/ and the
# services, and values the provider leaves unchecked inside for_each. Its own
# module (HCL stays away from the services), hence GOWORK=off. Extra
# arguments go to go test (e.g. -v); go vet and staticcheck run in
# `make lint`.
say "go test in deploy/terraform (contracts, scopes, subscriptions, scale rules, secrets)"
cd "$config_dir"
GOWORK=off go test -count=1 "$@" ./...
