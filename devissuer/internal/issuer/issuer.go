// Package issuer is a development OpenID Connect issuer: it publishes its
// signing key as a JWKS, as Entra ID or any OIDC issuer does, and signs a
// bearer token for whatever subject it is asked, with no password. It is
// for a developer's machine and the tests, never for a deployment.
package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Algorithm is the signature algorithm of the issuer's tokens.
const Algorithm = jose.ES256

// MaxTTL bounds how long a token lives, either way: a negative ttl signs
// a token that expired that long ago, for trying the 401 by hand.
const MaxTTL = 24 * time.Hour

// subjectPattern is what a subject may be: a rider id as the Trip API
// accepts it (contracts/schemas/trip-created.schema.json), or a
// dispatcher's.
var subjectPattern = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// rolePattern is what a role may be.
var rolePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// Issuer signs tokens with one ECDSA P-256 key.
type Issuer struct {
	url      string // the iss claim, and the base of its discovery URLs
	audience string // the aud claim
	ttl      time.Duration
	key      jose.JSONWebKey
	signer   jose.Signer
	now      func() time.Time
}

// New returns an issuer at url that signs with key for audience; its
// tokens live ttl unless asked otherwise.
func New(url, audience string, ttl time.Duration, key *ecdsa.PrivateKey) (*Issuer, error) {
	jwk := jose.JSONWebKey{Key: key, Algorithm: string(Algorithm), Use: "sig"}
	public := jwk.Public()
	thumb, err := public.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: Algorithm, Key: jwk}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	return &Issuer{url: strings.TrimRight(url, "/"), audience: audience, ttl: ttl, key: jwk, signer: signer, now: time.Now}, nil
}

// Claims are what the issuer puts in a token beyond the registered ones.
type Claims struct {
	Roles []string `json:"roles,omitempty"` // as Entra ID's app roles
}

// Token signs a token for subject with roles, living ttl.
func (i *Issuer) Token(subject string, roles []string, ttl time.Duration) (string, error) {
	if !subjectPattern.MatchString(subject) {
		return "", fmt.Errorf("sub must be 1 to 64 letters, digits or ._@- (like rider-42)")
	}
	for _, r := range roles {
		if !rolePattern.MatchString(r) {
			return "", fmt.Errorf("role %q: want lowercase letters, digits and dashes, like dispatcher", r)
		}
	}
	if ttl < -MaxTTL || ttl > MaxTTL {
		return "", fmt.Errorf("ttl must be within ±%s", MaxTTL)
	}
	now := i.now()
	jti := make([]byte, 12)
	_, _ = rand.Read(jti)
	std := jwt.Claims{
		Issuer:   i.url,
		Subject:  subject,
		Audience: jwt.Audience{i.audience},
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(ttl)),
		ID:       base64.RawURLEncoding.EncodeToString(jti),
	}
	if ttl > 0 {
		std.NotBefore = jwt.NewNumericDate(now.Add(-time.Minute)) // clock skew
	}
	return jwt.Signed(i.signer).Claims(std).Claims(Claims{Roles: roles}).Serialize()
}

// Handler serves the issuer: its OpenID configuration, its key set and
// GET /token?sub=rider-42[&role=dispatcher][&ttl=10m], which answers the
// signed token as text, for TOKEN=$(curl ...).
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                i.url,
			"jwks_uri":                              i.url + "/.well-known/jwks.json",
			"token_endpoint":                        i.url + "/token",
			"id_token_signing_alg_values_supported": []string{string(Algorithm)},
			"response_types_supported":              []string{"token"},
			"subject_types_supported":               []string{"public"},
		})
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{i.key.Public()}})
	})
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ttl := i.ttl
		if v := q.Get("ttl"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				http.Error(w, "ttl must be a duration such as 10m or -1m", http.StatusBadRequest)
				return
			}
			ttl = d
		}
		token, err := i.Token(q.Get("sub"), q["role"], ttl)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, token)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]string{"status": "ok"})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// LoadKey reads the PEM (PKCS #8) ECDSA P-256 key in path, making one and
// writing it there, readable by its owner only, when the file does not
// exist; with path "" it makes a key that lives as long as the process.
func LoadKey(path string) (*ecdsa.PrivateKey, error) {
	if path == "" {
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		return key, WriteKey(path, key)
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: want a PEM block of type PRIVATE KEY (PKCS #8)", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%s: want an ECDSA P-256 key", path)
	}
	return key, nil
}

// WriteKey writes key to path as PEM (PKCS #8), readable by its owner only.
func WriteKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}
