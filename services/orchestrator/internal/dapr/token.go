package dapr

import "net/http"

// apiTokenHeader carries the token the sidecar requires (DAPR_API_TOKEN).
const apiTokenHeader = "dapr-api-token"

// withToken sends token with every request next makes; "" sends none.
func withToken(token string, next http.RoundTripper) http.RoundTripper {
	if token == "" {
		return next
	}
	return tokenTransport{token: token, next: next}
}

type tokenTransport struct {
	token string
	next  http.RoundTripper
}

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(apiTokenHeader, t.token)
	return t.next.RoundTrip(r)
}
