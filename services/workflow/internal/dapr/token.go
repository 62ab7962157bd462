package dapr

import (
	"context"
	"net/http"
)

// apiTokenHeader carries the token the sidecar requires (DAPR_API_TOKEN),
// as an HTTP header and as gRPC metadata.
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

// tokenCredentials sends the token as metadata with every gRPC call,
// unary and streaming (the workflow worker's stream of work items).
type tokenCredentials string

func (c tokenCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{apiTokenHeader: string(c)}, nil
}

// RequireTransportSecurity is false: the sidecar is on loopback, without TLS.
func (tokenCredentials) RequireTransportSecurity() bool { return false }
