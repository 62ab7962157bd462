package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ride-choreography/services/dispatch/internal/auth"
	"github.com/ride-choreography/services/dispatch/internal/auth/authtest"
)

func verifierOf(i *authtest.Issuer) *auth.Verifier {
	return auth.New(context.Background(), i.URL, authtest.Audience, i.JWKSURL())
}

func TestADispatchersToken(t *testing.T) {
	iss := authtest.New(t)
	got, expires, err := verifierOf(iss).Dispatcher(context.Background(), iss.DispatcherToken(t, "dispatcher-1"))
	if err != nil || got != "dispatcher-1" {
		t.Fatalf("Dispatcher = %q, %v; want dispatcher-1", got, err)
	}
	if until := time.Until(expires); until < 50*time.Minute || until > time.Hour {
		t.Errorf("expires in %v, want the token's hour", until)
	}
}

func TestARidersTokenIsNoDispatchers(t *testing.T) {
	iss := authtest.New(t)
	v := verifierOf(iss)
	for name, token := range map[string]string{
		"no roles":    iss.Token(t, "rider-42"),
		"other roles": iss.Sign(t, authtest.Claims{Subject: "rider-42", Roles: []string{"rider", "dispatchers", "Dispatcher"}}),
	} {
		t.Run(name, func(t *testing.T) {
			got, _, err := v.Dispatcher(context.Background(), token)
			if !errors.Is(err, auth.ErrNotDispatcher) || got != "" {
				t.Errorf("Dispatcher = %q, %v; want ErrNotDispatcher", got, err)
			}
			if status, _, _, _ := auth.Refusal(err); status != 403 {
				t.Errorf("refused with %d, want 403", status)
			}
		})
	}
}

func TestBearer(t *testing.T) {
	for _, c := range []struct {
		authorization, want string
		err                 error
	}{
		{"Bearer abc", "abc", nil},
		{"bearer  abc ", "abc", nil},
		{"", "", auth.ErrNoToken},
		{"Basic cmlkZXI6cGFzcw==", "", auth.ErrInvalid},
		{"Bearer ", "", auth.ErrInvalid},
	} {
		got, err := auth.Bearer(c.authorization)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("Bearer(%q) = %q, %v; want %q, %v", c.authorization, got, err, c.want, c.err)
		}
	}
}

func TestBadTokensAreRefused(t *testing.T) {
	iss := authtest.New(t)
	other := authtest.New(t) // another key, published elsewhere
	v := verifierOf(iss)
	dispatcher := []string{auth.DispatcherRole}
	good := strings.Split(iss.DispatcherToken(t, "dispatcher-1"), ".")
	another := strings.Split(iss.DispatcherToken(t, "dispatcher-2"), ".")
	for _, c := range []struct {
		name, token string
		want        error
	}{
		{"none", "", auth.ErrNoToken},
		{"not a JWT", "not-a-jwt", auth.ErrInvalid},
		{"expired", iss.Sign(t, authtest.Claims{Subject: "dispatcher-1", Roles: dispatcher, Expiry: time.Now().Add(-time.Minute)}), auth.ErrExpired},
		{"signed by another key", other.Sign(t, authtest.Claims{Subject: "dispatcher-1", Roles: dispatcher, Issuer: iss.URL}), auth.ErrInvalid},
		{"another issuer", iss.Sign(t, authtest.Claims{Subject: "dispatcher-1", Roles: dispatcher, Issuer: "https://elsewhere.example"}), auth.ErrInvalid},
		{"another audience", iss.Sign(t, authtest.Claims{Subject: "dispatcher-1", Roles: dispatcher, Audience: "another-api"}), auth.ErrInvalid},
		{"no subject", iss.Sign(t, authtest.Claims{Roles: dispatcher}), auth.ErrInvalid},
		{"alg none", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + good[1] + ".", auth.ErrInvalid},
		{"payload swapped", good[0] + "." + another[1] + "." + good[2], auth.ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _, err := v.Dispatcher(context.Background(), c.token)
			if !errors.Is(err, c.want) || got != "" {
				t.Errorf("Dispatcher = %q, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestAnIssuerOutOfReachIsNotTheClientsFault(t *testing.T) {
	iss := authtest.New(t)
	v := verifierOf(iss)
	token := iss.DispatcherToken(t, "dispatcher-1")
	iss.Stop()
	_, _, err := v.Dispatcher(context.Background(), token)
	if !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("keys unreachable: got %v, want ErrUnavailable", err)
	}
}
