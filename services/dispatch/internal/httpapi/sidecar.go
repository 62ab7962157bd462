package httpapi

import (
	"crypto/subtle"
	"net/http"

	"github.com/rs/zerolog"
)

// sidecarTokenHeader carries the app token (APP_API_TOKEN) that the Dapr
// sidecar sends with every call it makes to the app.
const sidecarTokenHeader = "dapr-api-token"

// fromSidecar admits a request to next only when it carries the sidecar's
// app token: the subscription protocol, the event deliveries and the steps
// are the sidecar's to call, and whoever else reaches the port gets 401
// and changes nothing. An empty token admits nobody.
func fromSidecar(logger zerolog.Logger, token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get(sidecarTokenHeader)
		if token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			detail := "this route is for the service's Dapr sidecar only: " + sidecarTokenHeader + " is missing"
			if got != "" {
				detail = "this route is for the service's Dapr sidecar only: " + sidecarTokenHeader + " is wrong"
			}
			writeError(logger, w, r, &requestError{status: http.StatusUnauthorized, detail: detail})
			return
		}
		next.ServeHTTP(w, r)
	})
}
