package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/dispatch/internal/auth"
)

// Authenticator tells a dispatcher from their token (internal/auth): the
// token's subject and expiry, or why it is refused.
type Authenticator interface {
	Dispatcher(ctx context.Context, token string) (subject string, expires time.Time, err error)
}

// sessionCookie holds a signed-in dispatcher's token. It is HTTP-only, so
// the page's scripts never see it, and SameSite=Strict, so another site's
// page cannot send it; EventSource, which sends no headers of its own,
// carries it to the board's stream.
const sessionCookie = "dispatch_session"

type dispatcherKey struct{}

// fromDispatcher admits a request to next only from a dispatcher: a good
// token with the dispatcher role, in the session cookie or as a bearer
// token (for scripts and tests). A page request without one is sent to
// sign in; any other gets 401 (no token, expired, badly signed) or 403 (a
// good token of someone who is not a dispatcher, a rider say), as
// problem+json.
func fromDispatcher(logger zerolog.Logger, a Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := tokenOf(r)
		var subject string
		if err == nil {
			subject, _, err = a.Dispatcher(r.Context(), token)
		}
		if err != nil {
			if r.URL.Path == "/" && !errors.Is(err, auth.ErrUnavailable) {
				http.Redirect(w, r, "/signin", http.StatusSeeOther)
				return
			}
			writeError(logger, w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), dispatcherKey{}, subject)))
	})
}

// tokenOf returns the token r carries: its bearer token, else its session
// cookie's.
func tokenOf(r *http.Request) (string, error) {
	switch authorization := r.Header.Values("Authorization"); len(authorization) {
	case 0:
	case 1:
		return auth.Bearer(authorization[0])
	default:
		return "", &requestError{status: http.StatusBadRequest, detail: "send one Authorization header, not several"}
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return "", auth.ErrNoToken
	}
	return c.Value, nil
}

// dispatcherOf is the dispatcher fromDispatcher admitted.
func dispatcherOf(r *http.Request) string {
	d, _ := r.Context().Value(dispatcherKey{}).(string)
	return d
}

// maxSignInBytes bounds the sign-in form: a token and little else.
const maxSignInBytes = 16 << 10

// handleSignIn takes a dispatcher's token from the sign-in form (field
// token) and, when it is good, keeps it in the session cookie until it
// expires and sends the browser to the page; else it shows the form again
// with what is wrong, and the status of the refusal.
func handleSignIn(logger zerolog.Logger, a Authenticator, secure bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxSignInBytes)
		if err := r.ParseForm(); err != nil {
			var tooLarge *http.MaxBytesError
			status, detail := http.StatusBadRequest, "the sign-in form could not be read"
			if errors.As(err, &tooLarge) {
				status, detail = http.StatusRequestEntityTooLarge, "the sign-in form is larger than a token"
			}
			writeSignInForm(w, status, detail)
			return
		}
		token := strings.TrimSpace(r.PostForm.Get("token"))
		if token == "" {
			writeSignInForm(w, http.StatusBadRequest, "paste a dispatcher's token")
			return
		}
		subject, expires, err := a.Dispatcher(r.Context(), token)
		if err != nil {
			status, detail, _, ok := auth.Refusal(err)
			if !ok {
				status, detail = http.StatusServiceUnavailable, "the token cannot be checked right now; retry shortly"
			}
			logger.Info().Err(err).Int("status", status).Msg("sign-in refused")
			writeSignInForm(w, status, detail)
			return
		}
		http.SetCookie(w, &http.Cookie{
			Name: sessionCookie, Value: token, Path: "/", Expires: expires,
			HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode,
		})
		logger.Info().Str("dispatcher", subject).Time("until", expires).Msg("signed in")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

// handleSignOut forgets the session cookie and sends the browser to sign
// in.
func handleSignOut(secure bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{
			Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode,
		})
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
	})
}
