package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
)

// route is one method and path the service answers.
type route struct {
	method  string
	path    string
	handler http.Handler
}

// routes lists every route of the service.
func routes(logger zerolog.Logger, d Deps) []route {
	return []route{
		{http.MethodGet, "/healthz", handleHealthz()},
		{http.MethodGet, "/readyz", handleReadyz(logger, d.Ready, d.Stopping)},

		{http.MethodGet, "/riders/{riderId}/notifications", handleHistory(logger, d.Riders)},
		{http.MethodGet, "/riders/{riderId}/notifications/stream", handleStream(logger, d.Riders, d.Stopping, d.PollInterval, d.Heartbeat)},

		{http.MethodGet, "/dead-letters", handleDeadLetters(logger, d.DeadLetters)},

		{http.MethodGet, "/dapr/subscribe", handleSubscribe(d.PubSub)},
		{http.MethodPost, eventPath(topicTripCreated), handleEvent(logger, topicTripCreated, d.Events)},
		{http.MethodPost, eventPath(topicDriverAssigned), handleEvent(logger, topicDriverAssigned, d.Events)},
		{http.MethodPost, eventPath(topicDriverNotFound), handleEvent(logger, topicDriverNotFound, d.Events)},
		{http.MethodPost, deadLetterPath, handleDeadLetter(logger, d.DeadLetters)},
	}
}

// allowedMethods returns the methods of rs that router would route req's
// path for, for the Allow header of a 405 response.
func allowedMethods(router *mux.Router, rs []route, req *http.Request) string {
	var allowed []string
	for _, rt := range rs {
		if slices.Contains(allowed, rt.method) {
			continue
		}
		try := req.Clone(req.Context())
		try.Method = rt.method
		var match mux.RouteMatch
		if router.Match(try, &match) && match.MatchErr == nil {
			allowed = append(allowed, rt.method)
		}
	}
	return strings.Join(allowed, ", ")
}
