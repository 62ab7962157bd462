#!/usr/bin/env bash
# Runs every Go fuzz target of the service modules for FUZZTIME each
# (default 10s): `func FuzzX(f *testing.F)` in a _test.go file. A failing
# input is written under the package's testdata/fuzz/FuzzX/ by go test;
# commit it with the fix so it stays a regression test.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fuzztime=${FUZZTIME:-10s}

targets=0
while IFS= read -r file; do
	dir=$(dirname "$file")
	module=$dir
	until [[ -f $module/go.mod ]]; do module=$(dirname "$module"); done
	pkg=./${dir#"$module"/}
	[[ $dir == "$module" ]] && pkg=.
	for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' "$file"); do
		echo "== fuzz ${module#"$root"/} $pkg $name ($fuzztime)"
		(cd "$module" && GOWORK=off go test -run='^$' -fuzz="^$name\$" -fuzztime="$fuzztime" "$pkg")
		targets=$((targets + 1))
	done
done < <(grep -rl --include='*_test.go' '^func Fuzz' "$root/services" | sort)

if ((targets == 0)); then
	echo "no fuzz targets found" >&2
	exit 1
fi
echo "fuzzed $targets targets for $fuzztime each"
