package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testdata/source.json and testdata/binary.json are govulncheck v1.9.0's
// JSON for a program that calls http.Get, built with Go 1.26.8 (source mode
// on the module, binary mode on its binary), trimmed to three
// vulnerabilities: GO-2026-6612 reached through http.Get, GO-2026-6599 and
// GO-2026-6604 in the standard library but not reached (the binary's report
// has no GO-2026-6604).

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		allow   string
		targets []string
		wantErr error
		want    string
	}{
		{
			name:    "a reached vulnerability fails",
			targets: []string{"app=testdata/source.json"},
			wantErr: errFindings,
			want: `govulncheck v1.9.0, database file:///tmp/vulndb-out
TARGET  MODE    GO        REACHED  ALLOWED  NOT REACHED
app     source  go1.26.8  1        0        2
FAIL app GO-2026-6612 stdlib@v1.26.8 (fixed in v1.26.9): Double flow control refund on HTTP/2 server streams in net/http
    example.com/fixture.main (main.go:10) ... net/http.Get (src/net/http/client.go:457)
vulnerability check failed: 1 reached and not allowed, 0 stale allow-list entries
`,
		},
		{
			name: "an allowed one passes, with its reason",
			allow: `# a comment, then a blank line

app GO-2026-6612   the reason it cannot reach users
`,
			targets: []string{"app=testdata/source.json"},
			want: `govulncheck v1.9.0, database file:///tmp/vulndb-out
TARGET  MODE    GO        REACHED  ALLOWED  NOT REACHED
app     source  go1.26.8  1        1        2
ALLOWED app GO-2026-6612 stdlib@v1.26.8 (fixed in v1.26.9): Double flow control refund on HTTP/2 server streams in net/http
    example.com/fixture.main (main.go:10) ... net/http.Get (src/net/http/client.go:457)
    allowed: the reason it cannot reach users
vulnerability check passed: nothing reached but 1 allowed
`,
		},
		{
			name:    "an entry allows its own target only, and one that matches nothing is stale",
			allow:   "bin GO-2026-6612 allowed in the binary, not in the module\nbin GO-2026-6599 not reached\n",
			targets: []string{"app=testdata/source.json", "bin=testdata/binary.json"},
			wantErr: errFindings,
			want: `govulncheck v1.9.0, database file:///tmp/vulndb-out
TARGET  MODE    GO        REACHED  ALLOWED  NOT REACHED
app     source  go1.26.8  1        0        2
bin     binary  go1.26.8  1        1        1
ALLOWED bin GO-2026-6612 stdlib@v1.26.8 (fixed in v1.26.9): Double flow control refund on HTTP/2 server streams in net/http
    net/http.Client.Get
    allowed: allowed in the binary, not in the module
STALE allow-list line 2: bin GO-2026-6599 matches nothing reached; remove it
FAIL app GO-2026-6612 stdlib@v1.26.8 (fixed in v1.26.9): Double flow control refund on HTTP/2 server streams in net/http
    example.com/fixture.main (main.go:10) ... net/http.Get (src/net/http/client.go:457)
vulnerability check failed: 1 reached and not allowed, 1 stale allow-list entries
`,
		},
		{
			name:    "an entry for a target not scanned is stale",
			allow:   "app GO-2026-6612 reason\ngone GO-2026-6612 a target renamed or removed\n",
			targets: []string{"app=testdata/source.json"},
			wantErr: errFindings,
			want: `govulncheck v1.9.0, database file:///tmp/vulndb-out
TARGET  MODE    GO        REACHED  ALLOWED  NOT REACHED
app     source  go1.26.8  1        1        2
ALLOWED app GO-2026-6612 stdlib@v1.26.8 (fixed in v1.26.9): Double flow control refund on HTTP/2 server streams in net/http
    example.com/fixture.main (main.go:10) ... net/http.Get (src/net/http/client.go:457)
    allowed: reason
STALE allow-list line 2: gone GO-2026-6612 matches nothing reached; remove it
vulnerability check failed: 0 reached and not allowed, 1 stale allow-list entries
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allow := filepath.Join(t.TempDir(), "allowlist")
			if err := os.WriteFile(allow, []byte(tt.allow), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err := run(append([]string{"-allow", allow}, tt.targets...), &out)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("run() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAllowListRefuses(t *testing.T) {
	tests := []struct {
		name, allow, want string
	}{
		{"an entry without a reason", "app GO-2026-6612\n", "line 1: want TARGET ID REASON"},
		{"an entry twice", "# both\napp GO-2026-6612 one\napp GO-2026-6612 two\n", "line 3: app GO-2026-6612 is listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAllowList(strings.NewReader(tt.allow))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseAllowList() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestReadReportRefusesOtherJSON(t *testing.T) {
	for _, in := range []string{`{"vulns": []}`, `not JSON`, ``} {
		if _, err := readReport("app", strings.NewReader(in)); err == nil {
			t.Errorf("readReport(%q) succeeded, want an error", in)
		}
	}
}
