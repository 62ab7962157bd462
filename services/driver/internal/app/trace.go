package app

import "context"

type traceParentKey struct{}

// WithTraceParent returns a copy of ctx carrying the W3C traceparent of the
// event being handled, so that the events published for it continue its
// trace.
func WithTraceParent(ctx context.Context, traceParent string) context.Context {
	return context.WithValue(ctx, traceParentKey{}, traceParent)
}

// TraceParent returns the traceparent carried by ctx, or "".
func TraceParent(ctx context.Context) string {
	tp, _ := ctx.Value(traceParentKey{}).(string)
	return tp
}
