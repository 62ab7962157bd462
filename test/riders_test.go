package e2e

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Riders' bearer tokens. Every system runs the development issuer
// (../devissuer), which publishes the key in issuerKeyFile; the services
// verify tokens against it as they would Entra ID's. The tests sign their
// riders' tokens with that same key, in-process, so that a load of
// thousands of riders costs no round trip to the issuer.
const (
	devIssuer = "devissuer" // its binary
	// issuerID is the iss of every system's tokens: systems differ in the
	// port of their issuer, not in its name.
	issuerID = "https://issuer.e2e.test"
	audience = "ride-api"
	// anyRider is the rider of a request that names none the tests can
	// read, such as a malformed order.
	anyRider = "rider-e2e"
)

var (
	issuerKeyFile string      // the signing key, PEM, written by prepareIssuerKey
	signer        jose.Signer // signs with it
	tokens        sync.Map    // rider -> token
)

// prepareIssuerKey makes the signing key of every system's issuer and of
// the tests' tokens.
func prepareIssuerKey(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	issuerKeyFile = filepath.Join(dir, "issuer-key.pem")
	if err := os.WriteFile(issuerKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	signer, err = newSigner(key)
	return err
}

// newSigner signs ES256 JWTs with key, naming it by its thumbprint, as the
// development issuer does.
func newSigner(key *ecdsa.PrivateKey) (jose.Signer, error) {
	jwk := jose.JSONWebKey{Key: key, Algorithm: string(jose.ES256), Use: "sig"}
	public := jwk.Public()
	thumb, err := public.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	return jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jwk}, (&jose.SignerOptions{}).WithType("JWT"))
}

// claims are what a test may change of a token: the zero value is a good
// token of an hour.
type claims struct {
	issuer, audience string
	expiry           time.Time
}

// signToken signs a token for rider with s (the issuers' key unless a
// test forges one).
func signToken(s jose.Signer, rider string, c claims) string {
	now := time.Now()
	std := jwt.Claims{
		Issuer:   cmp.Or(c.issuer, issuerID),
		Subject:  rider,
		Audience: jwt.Audience{cmp.Or(c.audience, audience)},
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(time.Hour)),
	}
	if !c.expiry.IsZero() {
		std.Expiry = jwt.NewNumericDate(c.expiry)
	}
	token, err := jwt.Signed(s).Claims(std).Serialize()
	if err != nil {
		panic(err) // only a broken key fails, and prepare made it
	}
	return token
}

// riderToken is a good token of rider, signed once per run.
func riderToken(rider string) string {
	if t, ok := tokens.Load(rider); ok {
		return t.(string)
	}
	t, _ := tokens.LoadOrStore(rider, signToken(signer, rider, claims{}))
	return t.(string)
}

// bearer is the Authorization header of rider.
func bearer(rider string) string { return "Bearer " + riderToken(rider) }

// startIssuer starts the system's development issuer on its port.
func (s *system) startIssuer() error {
	servePublic(hostPort(s.issuerURL()), devIssuer)
	_, err := s.spawn(devIssuer, append(inheritedEnv(),
		"APP_HOST=127.0.0.1",
		"APP_PORT="+strconv.Itoa(s.issuerPort),
		"ISSUER_URL="+issuerID,
		"ISSUER_AUDIENCE="+audience,
		"ISSUER_KEY_FILE="+issuerKeyFile,
	), filepath.Join(binDir, devIssuer))
	return err
}

// issuerURL is the base URL of the system's development issuer.
func (s *system) issuerURL() string { return "http://127.0.0.1:" + strconv.Itoa(s.issuerPort) }

// authEnv tells a service whose tokens to take.
func (s *system) authEnv() []string {
	return []string{
		"AUTH_ISSUER=" + issuerID,
		"AUTH_AUDIENCE=" + audience,
		"AUTH_JWKS_URL=" + s.issuerURL() + "/.well-known/jwks.json",
	}
}

// riders is the transport of the tests' clients: it sends each request to
// a rider's API with the bearer token of its rider, as the rider's app
// would, unless the request has an Authorization header of its own (the
// tests of authentication set theirs). The rider is the one the path
// names (/riders/{riderId}/...), the one the order names (POST /trips),
// or the one who ordered the trip (GET /trips/{id}, learnt from the
// answers to POST /trips); anyRider when none of them tells.
// Every answer is checked against contracts/openapi.yaml on its way
// (contractTransport), with the token the request went with.
var riders = &riderTransport{next: checked(http.DefaultTransport), tripRiders: map[string]string{}}

type riderTransport struct {
	next http.RoundTripper

	mu         sync.Mutex
	tripRiders map[string]string // tripId -> riderId
}

func (rt *riderTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	order := req.Method == http.MethodPost && req.URL.Path == "/trips"
	if req.Header.Get("Authorization") == "" && riderAPI(req.URL.Path) {
		var body []byte
		if order && req.Body != nil {
			b, err := io.ReadAll(req.Body)
			req.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("read the order: %w", err)
			}
			body = b
		}
		rider := rt.riderOf(req, body)
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", bearer(rider))
		if order {
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
	}
	resp, err := rt.next.RoundTrip(req)
	if err != nil || !order || resp.StatusCode != http.StatusAccepted {
		return resp, err
	}
	// Learn whose trip it is from the answer, and give the body back.
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return resp, nil // the caller reads the same error from the body
	}
	var trip struct{ TripID, RiderID string }
	if json.Unmarshal(body, &trip) == nil && trip.TripID != "" {
		rt.mu.Lock()
		rt.tripRiders[trip.TripID] = trip.RiderID
		rt.mu.Unlock()
	}
	return resp, nil
}

// riderAPI reports whether path is a rider's: the Trip API and the
// notifications.
func riderAPI(path string) bool {
	return path == "/trips" || strings.HasPrefix(path, "/trips/") || strings.HasPrefix(path, "/riders/")
}

// riderOf is the rider a request to a rider's API is made for; body is
// the order of a POST /trips.
func (rt *riderTransport) riderOf(req *http.Request, body []byte) string {
	switch p := req.URL.Path; {
	case strings.HasPrefix(p, "/riders/"):
		id, _, _ := strings.Cut(strings.TrimPrefix(req.URL.EscapedPath(), "/riders/"), "/")
		if rider, err := url.PathUnescape(id); err == nil && rider != "" {
			return rider
		}
	case p == "/trips":
		var o struct{ RiderID string }
		if json.Unmarshal(body, &o) == nil && o.RiderID != "" {
			return o.RiderID
		}
	case strings.HasPrefix(p, "/trips/"):
		rt.mu.Lock()
		defer rt.mu.Unlock()
		if rider, ok := rt.tripRiders[strings.TrimPrefix(p, "/trips/")]; ok {
			return rider
		}
	}
	return anyRider
}

// TestRidersAreAuthenticated: the public APIs serve a rider only with a
// good bearer token of that rider. A missing, expired, forged or foreign
// token gets 401 with its challenge; another rider's trip, notifications
// and stream get 404, as if they did not exist; and nothing refused
// reaches a rider.
func TestRidersAreAuthenticated(t *testing.T) {
	sys := shared(t)
	rider := newID("rider")
	// Far from every driver, the trip settles at once and takes none of
	// the shared system's five.
	trip := accepted(t, sys.orderTrip(t, orderBody(rider, farFromEveryDriver)))
	sys.settledTrip(t, trip.TripID)
	sys.awaitNotifications(t, rider, 2)

	forger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := newSigner(forger)
	if err != nil {
		t.Fatal(err)
	}
	intruder := newID("rider-intruder")
	for _, c := range []struct{ name, authorization, challenge string }{
		{"no token", "", `Bearer realm="ride"`},
		{"not a bearer token", "Basic " + base64.StdEncoding.EncodeToString([]byte(rider+":password")), `error="invalid_token"`},
		{"expired", "Bearer " + signToken(signer, rider, claims{expiry: time.Now().Add(-time.Minute)}), `error_description="the bearer token has expired"`},
		{"forged key", "Bearer " + signToken(forged, rider, claims{}), `error="invalid_token"`},
		{"another issuer", "Bearer " + signToken(signer, rider, claims{issuer: "https://elsewhere.example"}), `error="invalid_token"`},
		{"another audience", "Bearer " + signToken(signer, rider, claims{audience: "another-api"}), `error="invalid_token"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			header := []string{"Content-Type", "application/json"}
			if c.authorization != "" {
				header = append(header, "Authorization", c.authorization)
			}
			for _, r := range []response{
				doWith(t, bareClient, http.MethodPost, sys.url("trip", "/trips"), orderBody(rider, farFromEveryDriver), header...),
				doWith(t, bareClient, http.MethodPost, sys.url("trip", "/trips"), orderBody(intruder, farFromEveryDriver), header...),
				doWith(t, bareClient, http.MethodGet, sys.url("trip", "/trips/"+trip.TripID), "", header...),
				doWith(t, bareClient, http.MethodGet, sys.url("notification", "/riders/"+rider+"/notifications"), "", header...),
				doWith(t, bareClient, http.MethodGet, sys.url("notification", "/riders/"+rider+"/notifications/stream"), "", header...),
			} {
				wantProblem(t, r, http.StatusUnauthorized)
				if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") || !strings.Contains(got, c.challenge) {
					t.Errorf("WWW-Authenticate %q, want a Bearer challenge with %s", got, c.challenge)
				}
			}
		})
	}

	t.Run("another rider's", func(t *testing.T) {
		as := []string{"Authorization", bearer(intruder)}
		unknown := do(t, http.MethodGet, sys.url("trip", "/trips/6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d"), "", as...)
		theirs := do(t, http.MethodGet, sys.url("trip", "/trips/"+trip.TripID), "", as...)
		wantProblem(t, theirs, http.StatusNotFound)
		if got, want := decode[problemView](t, theirs).Detail, decode[problemView](t, unknown).Detail; got != want {
			t.Errorf("another rider's trip: %q, want the answer of an unknown trip, %q", got, want)
		}
		for _, path := range []string{"/riders/" + rider + "/notifications", "/riders/" + rider + "/notifications/stream"} {
			r := do(t, http.MethodGet, sys.url("notification", path), "", as...)
			wantProblem(t, r, http.StatusNotFound)
			if strings.Contains(string(r.body), "driver") || strings.Contains(string(r.body), trip.TripID) {
				t.Errorf("GET %s as another rider told something: %s", path, r)
			}
		}
	})

	// What was refused reached nobody: the rider has their two
	// notifications, the intruder none.
	if got := sys.notifications(t, rider); len(got) != 2 {
		t.Errorf("the rider has %d notifications, want their trip's 2: %+v", len(got), got)
	}
	if got := sys.notifications(t, intruder); len(got) != 0 {
		t.Errorf("the intruder has notifications: %+v", got)
	}
}

// TestDevelopmentIssuerTokenOrdersATrip: the README's way, a token for a
// rider from the development issuer (GET /token?sub=) and an order that
// leaves riderId out, orders that rider's trip.
func TestDevelopmentIssuerTokenOrdersATrip(t *testing.T) {
	sys := shared(t)
	rider := newID("rider")
	r := doWith(t, bareClient, http.MethodGet, sys.issuerURL()+"/token?sub="+rider, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /token: %s", r)
	}
	token := strings.TrimSpace(string(r.body))
	// Far from every driver: the trip takes none of the shared system's.
	order := fmt.Sprintf(`{"pickup":{"lat":%v,"lon":%v},"dropoff":{"lat":50.1,"lon":14.26}}`, farFromEveryDriver.lat, farFromEveryDriver.lon)
	trip := accepted(t, doWith(t, bareClient, http.MethodPost, sys.url("trip", "/trips"), order,
		"Content-Type", "application/json", "Authorization", "Bearer "+token))
	if trip.RiderID != rider {
		t.Errorf("the trip's rider is %q, want the token's, %q", trip.RiderID, rider)
	}
	got := decode[tripView](t, doWith(t, bareClient, http.MethodGet, sys.url("trip", "/trips/"+trip.TripID), "", "Authorization", "Bearer "+token))
	if got.TripID != trip.TripID {
		t.Errorf("GET /trips/%s with the issuer's token: %+v", trip.TripID, got)
	}
	sys.awaitNotifications(t, rider, 2)
}

// TestOrdersPerRiderAreRateLimited: one rider ordering faster than
// ORDER_BURST at once gets 429 with Retry-After for the order beyond it,
// and that order reaches nobody; another rider orders all the same.
func TestOrdersPerRiderAreRateLimited(t *testing.T) {
	// "trip" is the Trip API's app in every style: the coordinator takes
	// its place, and its settings, in the others.
	sys := startSystem(t, withEnv("trip", "ORDER_BURST=2", "ORDERS_PER_MINUTE=1"))
	rider := newID("rider")
	for i := range 2 {
		accepted(t, sys.orderTrip(t, orderBody(rider, pickups[i+1])))
	}
	refused := sys.orderTrip(t, orderBody(rider, pickups[3]), "Idempotency-Key", "the-third")
	wantProblem(t, refused, http.StatusTooManyRequests)
	if s, err := strconv.Atoi(refused.header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After %q, want the seconds until the next order is allowed (at most 60 at one a minute)", refused.header.Get("Retry-After"))
	}
	other := newID("rider")
	accepted(t, sys.orderTrip(t, orderBody(other, pickups[4])))
	sys.awaitNotifications(t, other, 2)
	sys.awaitNotifications(t, rider, 4) // the two accepted trips, two notifications each
	if got := sys.notifications(t, rider); len(got) != 4 {
		t.Errorf("the rider has %d notifications, want 4: the refused order must reach nobody", len(got))
	}
}
