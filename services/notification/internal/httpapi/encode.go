package httpapi

import (
	"encoding/json"
	"net/http"
)

// statusBody is the body of the health and readiness answers and of the
// answers to Dapr's event deliveries.
type statusBody struct {
	Status string `json:"status"`
}

// writeJSON answers with v as an application/json body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONAs(w, "application/json", status, v)
}

// writeJSONAs answers with v encoded as JSON, under the given content type.
// An error can only come from writing, when the client went away: there is
// no one left to tell.
func writeJSONAs(w http.ResponseWriter, contentType string, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
