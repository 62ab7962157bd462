package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ride-choreography/services/trip/internal/auth"
	"github.com/ride-choreography/services/trip/internal/auth/authtest"
)

func verifierOf(i *authtest.Issuer) *auth.Verifier {
	return auth.New(context.Background(), i.URL, authtest.Audience, i.JWKSURL())
}

func TestSubjectOfAGoodToken(t *testing.T) {
	iss := authtest.New(t)
	got, err := verifierOf(iss).Subject(context.Background(), iss.Bearer(t, "rider-42"))
	if err != nil || got != "rider-42" {
		t.Fatalf("Subject = %q, %v; want rider-42", got, err)
	}
}

func TestBadTokensAreRefused(t *testing.T) {
	iss := authtest.New(t)
	other := authtest.New(t) // another key, published elsewhere
	v := verifierOf(iss)
	good := strings.Split(iss.Token(t, "rider-42"), ".")
	another := strings.Split(iss.Token(t, "rider-43"), ".")
	for _, c := range []struct {
		name, authorization string
		want                error
	}{
		{"none", "", auth.ErrNoToken},
		{"basic", "Basic cmlkZXI6cGFzcw==", auth.ErrInvalid},
		{"bearer without a token", "Bearer ", auth.ErrInvalid},
		{"not a JWT", "Bearer not-a-jwt", auth.ErrInvalid},
		{"expired", "Bearer " + iss.Sign(t, authtest.Claims{Subject: "rider-42", Expiry: time.Now().Add(-time.Minute)}), auth.ErrExpired},
		{"signed by another key", "Bearer " + other.Sign(t, authtest.Claims{Subject: "rider-42", Issuer: iss.URL}), auth.ErrInvalid},
		{"another issuer", "Bearer " + iss.Sign(t, authtest.Claims{Subject: "rider-42", Issuer: "https://elsewhere.example"}), auth.ErrInvalid},
		{"another audience", "Bearer " + iss.Sign(t, authtest.Claims{Subject: "rider-42", Audience: "another-api"}), auth.ErrInvalid},
		{"no subject", "Bearer " + iss.Sign(t, authtest.Claims{}), auth.ErrInvalid},
		{"alg none", "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + good[1] + ".", auth.ErrInvalid},
		{"payload swapped", "Bearer " + good[0] + "." + another[1] + "." + good[2], auth.ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := v.Subject(context.Background(), c.authorization)
			if !errors.Is(err, c.want) || got != "" {
				t.Errorf("Subject = %q, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestAnIssuerOutOfReachIsNotTheClientsFault(t *testing.T) {
	iss := authtest.New(t)
	v := verifierOf(iss)
	token := iss.Bearer(t, "rider-42")
	iss.Stop()
	_, err := v.Subject(context.Background(), token)
	if !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("keys unreachable: got %v, want ErrUnavailable", err)
	}
}
