// Package authtest is an OpenID Connect issuer for tests: it publishes its
// key set on a real local port, as the development issuer does, and signs
// tokens good or bad on purpose.
package authtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Audience is the audience the tests' services are configured with.
const Audience = "ride-api"

// Issuer signs tokens and serves their keys.
type Issuer struct {
	URL    string // the issuer, iss of its tokens
	server *httptest.Server
	signer jose.Signer
	key    jose.JSONWebKey
}

// New starts an issuer, stopped when the test ends.
func New(t testing.TB) *Issuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: key, KeyID: rand.Text(), Algorithm: string(jose.ES256), Use: "sig"}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jwk}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	i := &Issuer{signer: signer, key: jwk}
	i.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{i.key.Public()}})
	}))
	t.Cleanup(i.server.Close)
	i.URL = i.server.URL
	return i
}

// JWKSURL is where the issuer publishes its keys.
func (i *Issuer) JWKSURL() string { return i.URL + "/.well-known/jwks.json" }

// Stop stops serving the keys, as an issuer out of reach.
func (i *Issuer) Stop() { i.server.Close() }

// Claims are a token's claims; Token fills what is left zero.
type Claims struct {
	Subject  string
	Issuer   string
	Audience string
	Expiry   time.Time
	Roles    []string // the app roles, as Entra ID names them: "roles"
}

// Token signs a good token for subject, living an hour.
func (i *Issuer) Token(t testing.TB, subject string) string {
	return i.Sign(t, Claims{Subject: subject})
}

// DispatcherToken signs a good token for subject in the dispatcher role.
func (i *Issuer) DispatcherToken(t testing.TB, subject string) string {
	return i.Sign(t, Claims{Subject: subject, Roles: []string{"dispatcher"}})
}

// Bearer is the Authorization header's value for a good token of subject.
func (i *Issuer) Bearer(t testing.TB, subject string) string {
	return "Bearer " + i.Token(t, subject)
}

// Sign signs c, with the issuer, the audience and an hour's life where c
// leaves them zero.
func (i *Issuer) Sign(t testing.TB, c Claims) string {
	t.Helper()
	if c.Issuer == "" {
		c.Issuer = i.URL
	}
	if c.Audience == "" {
		c.Audience = Audience
	}
	if c.Expiry.IsZero() {
		c.Expiry = time.Now().Add(time.Hour)
	}
	s, err := jwt.Signed(i.signer).Claims(jwt.Claims{
		Issuer:   c.Issuer,
		Subject:  c.Subject,
		Audience: jwt.Audience{c.Audience},
		IssuedAt: jwt.NewNumericDate(time.Now()),
		Expiry:   jwt.NewNumericDate(c.Expiry),
	}).Claims(map[string]any{"roles": c.Roles}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
