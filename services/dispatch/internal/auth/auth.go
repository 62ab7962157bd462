// Package auth tells whom a request's bearer token names. A token is a JWT
// signed by the configured OpenID Connect issuer (Entra ID in Azure, the
// development issuer locally) for the API's audience, verified with go-oidc
// against the keys the issuer publishes (its JWKS), which are fetched when
// first needed and again when a token names a key not seen yet. It is the
// only package of the service that knows JWT.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

var (
	// ErrNoToken: the request has no Authorization header.
	ErrNoToken = errors.New("this API wants a bearer token: Authorization: Bearer <token>")
	// ErrExpired: the token was good, and has expired.
	ErrExpired = errors.New("the bearer token has expired")
	// ErrInvalid: the token is malformed, badly signed, or not for this
	// API (another issuer or audience).
	ErrInvalid = errors.New("the bearer token is not valid here")
	// ErrNotDispatcher: the token is good, and its subject is not a
	// dispatcher (it lacks the dispatcher role).
	ErrNotDispatcher = errors.New("this page is for dispatchers: the token lacks the dispatcher role")
	// ErrUnavailable: the issuer's keys cannot be fetched, so no token can
	// be told good or bad right now; the client is not at fault.
	ErrUnavailable = errors.New("the token issuer's keys cannot be fetched right now")
)

// fetchTimeout bounds one fetch of the issuer's keys.
const fetchTimeout = 5 * time.Second

// Verifier verifies bearer tokens of one issuer for one audience.
type Verifier struct {
	verifier *oidc.IDTokenVerifier
}

// New returns a Verifier of tokens that issuer signed for audience, with
// the keys published at jwksURL. ctx bounds the life of the key fetches.
func New(ctx context.Context, issuer, audience, jwksURL string) *Verifier {
	ctx = oidc.ClientContext(ctx, &http.Client{Timeout: fetchTimeout})
	keys := keySet{remote: oidc.NewRemoteKeySet(ctx, jwksURL)}
	return &Verifier{verifier: oidc.NewVerifier(issuer, keys, &oidc.Config{
		ClientID:             audience,
		SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256},
	})}
}

// DispatcherRole is the app role a token's subject needs to see the board.
const DispatcherRole = "dispatcher"

// Dispatcher returns the subject of token, a JWT, if it is good and names
// a dispatcher: it holds DispatcherRole in its "roles" claim, as Entra
// ID's app roles and the development issuer put them; and when it
// expires.
func (v *Verifier) Dispatcher(ctx context.Context, token string) (string, time.Time, error) {
	t, err := v.verify(ctx, token)
	if err != nil {
		return "", time.Time{}, err
	}
	var claims struct {
		Roles []string `json:"roles"`
	}
	if err := t.Claims(&claims); err != nil {
		return "", time.Time{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !slices.Contains(claims.Roles, DispatcherRole) {
		return "", time.Time{}, ErrNotDispatcher
	}
	return t.Subject, t.Expiry, nil
}

// Bearer returns the token of an Authorization header's value: "Bearer
// <token>".
func Bearer(authorization string) (string, error) {
	if authorization == "" {
		return "", ErrNoToken
	}
	scheme, token, _ := strings.Cut(authorization, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", fmt.Errorf("%w: want Authorization: Bearer <token>", ErrInvalid)
	}
	return token, nil
}

// verify verifies token, a JWT.
func (v *Verifier) verify(ctx context.Context, token string) (*oidc.IDToken, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	fetchFailed := false
	t, err := v.verifier.Verify(context.WithValue(ctx, fetchFailedKey{}, &fetchFailed), token)
	var expired *oidc.TokenExpiredError
	switch {
	case errors.As(err, &expired):
		return nil, ErrExpired
	case err != nil && errors.Is(ctx.Err(), context.Canceled):
		return nil, err
	case err != nil && fetchFailed:
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	case t.Subject == "":
		return nil, fmt.Errorf("%w: it names no subject", ErrInvalid)
	}
	return t, nil
}

// keySet is go-oidc's remote key set, telling the verifier's caller when
// the keys could not be fetched: go-oidc reports that as a failed
// signature, and a client must not be told its token is bad when the
// issuer is only out of reach.
type keySet struct {
	remote *oidc.RemoteKeySet
}

// fetchFailedKey marks, in the context of one verification, where to note
// that the keys could not be fetched.
type fetchFailedKey struct{}

func (k keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.remote.VerifySignature(ctx, jwt)
	// go-oidc's words for a failed fetch of the keys (remote.go); a test
	// fails if they change.
	if err != nil && strings.HasPrefix(err.Error(), "fetching keys") {
		if failed, ok := ctx.Value(fetchFailedKey{}).(*bool); ok {
			*failed = true
		}
	}
	return payload, err
}

// Refusal is how an HTTP API answers err, one of this package's errors:
// the status, the detail for the client (what exactly is wrong with a
// token stays in the log) and the WWW-Authenticate challenge (RFC 6750),
// "" for none. ok is false for any other error.
func Refusal(err error) (status int, detail, challenge string, ok bool) {
	switch {
	case errors.Is(err, ErrNoToken):
		return http.StatusUnauthorized, ErrNoToken.Error(), `Bearer realm="ride"`, true
	case errors.Is(err, ErrExpired), errors.Is(err, ErrInvalid):
		detail := ErrInvalid.Error()
		if errors.Is(err, ErrExpired) {
			detail = ErrExpired.Error()
		}
		return http.StatusUnauthorized, detail, fmt.Sprintf(`Bearer realm="ride", error="invalid_token", error_description=%q`, detail), true
	case errors.Is(err, ErrNotDispatcher):
		return http.StatusForbidden, ErrNotDispatcher.Error(), "", true
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable, "the service cannot check bearer tokens right now; retry shortly", "", true
	}
	return 0, "", "", false
}
