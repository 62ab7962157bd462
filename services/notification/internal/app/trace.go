package app

import (
	"context"
	"strings"
)

type traceParentKey struct{}

// WithTraceParent returns a copy of ctx carrying traceparent, the W3C trace
// context of the event being handled, so that logs and calls to the sidecar
// join the event's trace. A malformed traceparent is left out.
func WithTraceParent(ctx context.Context, traceparent string) context.Context {
	if traceID(traceparent) == "" {
		return ctx
	}
	return context.WithValue(ctx, traceParentKey{}, traceparent)
}

// TraceParent returns the W3C traceparent carried by ctx, or "".
func TraceParent(ctx context.Context) string {
	tp, _ := ctx.Value(traceParentKey{}).(string)
	return tp
}

// TraceID returns the trace id of the traceparent carried by ctx, or "".
func TraceID(ctx context.Context) string {
	return traceID(TraceParent(ctx))
}

// traceID returns the trace id of a traceparent
// ("00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>"), or "" when
// traceparent does not have that shape.
func traceID(traceparent string) string {
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 || len(parts[1]) != 32 || len(parts[2]) != 16 || !isHex(parts[1]+parts[2]) {
		return ""
	}
	return parts[1]
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}
