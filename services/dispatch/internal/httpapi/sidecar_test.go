package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// fromSidecar lets through only the request with the sidecar's token; any
// other gets 401 problem+json and never reaches the handler.
func TestFromSidecarAdmitsOnlyTheSidecarsToken(t *testing.T) {
	const token = "sidecar-token-0123456789"
	reached := 0
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached++
		w.WriteHeader(http.StatusNoContent)
	})
	for _, c := range []struct {
		name, token, header string
		want                int
		detail              string
	}{
		{"no token", token, "", http.StatusUnauthorized, "dapr-api-token is missing"},
		{"a wrong token", token, "sidecar-token-0123456780", http.StatusUnauthorized, "dapr-api-token is wrong"},
		{"a prefix of the token", token, "sidecar-token", http.StatusUnauthorized, "dapr-api-token is wrong"},
		{"the token", token, token, http.StatusNoContent, ""},
		{"no token configured, none sent", "", "", http.StatusUnauthorized, "dapr-api-token is missing"},
		{"no token configured, one sent", "", token, http.StatusUnauthorized, "dapr-api-token is wrong"},
	} {
		before := reached
		req := httptest.NewRequest(http.MethodPost, "/events/trip-created", strings.NewReader(`{}`))
		if c.header != "" {
			req.Header.Set("dapr-api-token", c.header)
		}
		rec := httptest.NewRecorder()
		fromSidecar(zerolog.Nop(), c.token, next).ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%s: status %d, want %d", c.name, rec.Code, c.want)
		}
		if c.want != http.StatusUnauthorized {
			continue
		}
		var p problem
		if rec.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Status != http.StatusUnauthorized || !strings.Contains(p.Detail, c.detail) {
			t.Errorf("%s: answered %s %s, want a 401 problem saying %q", c.name, rec.Header().Get("Content-Type"), rec.Body, c.detail)
		}
		if strings.Contains(rec.Body.String(), token) {
			t.Errorf("%s: the answer shows the token: %s", c.name, rec.Body)
		}
		if reached != before {
			t.Errorf("%s: the handler was reached", c.name)
		}
	}
}
