package issuer

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// serve starts an issuer on a real port and returns its base URL.
func serve(t *testing.T) (*Issuer, string) {
	t.Helper()
	key, err := LoadKey("")
	if err != nil {
		t.Fatal(err)
	}
	var iss *Issuer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { iss.Handler().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	iss, err = New(srv.URL, "ride-api", time.Hour, key)
	if err != nil {
		t.Fatal(err)
	}
	return iss, srv.URL
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// verifier verifies as the services do: against the issuer's discovered
// key set, for audience ride-api.
func verifier(t *testing.T, url string) *oidc.IDTokenVerifier {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), url)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return p.Verifier(&oidc.Config{ClientID: "ride-api", SupportedSigningAlgs: []string{string(Algorithm)}})
}

func TestTokenVerifiesAgainstThePublishedKeys(t *testing.T) {
	_, url := serve(t)
	status, body := get(t, url+"/token?sub=rider-42&role=dispatcher")
	if status != http.StatusOK {
		t.Fatalf("GET /token: %d %s", status, body)
	}
	tok, err := verifier(t, url).Verify(context.Background(), strings.TrimSpace(body))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var c Claims
	if err := tok.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if tok.Subject != "rider-42" || tok.Issuer != url || len(c.Roles) != 1 || c.Roles[0] != "dispatcher" {
		t.Errorf("got sub %q iss %q roles %v; want rider-42, %s, [dispatcher]", tok.Subject, tok.Issuer, c.Roles, url)
	}
	if left := time.Until(tok.Expiry); left < 59*time.Minute || left > time.Hour {
		t.Errorf("expires in %s, want the default hour", left)
	}
}

func TestNegativeTTLSignsAnExpiredToken(t *testing.T) {
	_, url := serve(t)
	_, body := get(t, url+"/token?sub=rider-42&ttl=-1m")
	_, err := verifier(t, url).Verify(context.Background(), strings.TrimSpace(body))
	var expired *oidc.TokenExpiredError
	if !errors.As(err, &expired) {
		t.Fatalf("verify: want an expired token, got %v", err)
	}
}

func TestAnotherIssuersTokenDoesNotVerify(t *testing.T) {
	other, _ := serve(t)
	_, url := serve(t)
	forged, err := other.Token("rider-42", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifier(t, url).Verify(context.Background(), forged); err == nil {
		t.Fatal("a token of another issuer's key verified")
	}
}

func TestBadTokenRequestsAreRefused(t *testing.T) {
	_, url := serve(t)
	for _, q := range []string{
		"",                        // no subject
		"sub=",                    // empty subject
		"sub=rider%2042",          // a space
		"sub=" + strings.Repeat("r", 65),
		"sub=rider-42&role=Admin!",
		"sub=rider-42&ttl=soon",
		"sub=rider-42&ttl=25h",
	} {
		if status, body := get(t, url+"/token?"+q); status != http.StatusBadRequest {
			t.Errorf("GET /token?%s: got %d %q, want 400", q, status, body)
		}
	}
}

func TestKeyFileIsMadeOnceAndKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key.pem")
	first, err := LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
	again, err := LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Equal(again) {
		t.Error("the key read back differs from the key made")
	}
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(path); err == nil || !strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("a file holding no key: got %v, want an error naming the PEM type wanted", err)
	}
}
