package httpapi

import (
	"context"
	"net/http"

	"github.com/rs/zerolog"
)

// Authenticator tells whom a request's bearer token names (internal/auth).
type Authenticator interface {
	Subject(ctx context.Context, authorization string) (string, error)
}

type riderKey struct{}

// fromRider admits a request to next only with a good bearer token; the
// token's subject is the rider, whom riderOf tells next. A missing, expired
// or badly signed token gets 401 and never reaches next.
func fromRider(logger zerolog.Logger, auth Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authorization := r.Header.Values("Authorization")
		if len(authorization) > 1 {
			writeError(logger, w, r, &requestError{status: http.StatusBadRequest, detail: "send one Authorization header, not several"})
			return
		}
		rider, err := auth.Subject(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), riderKey{}, rider)))
	})
}

// riderOf is the rider fromRider admitted.
func riderOf(r *http.Request) string {
	rider, _ := r.Context().Value(riderKey{}).(string)
	return rider
}
