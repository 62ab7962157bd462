// Package tracing is the service's edge to OpenTelemetry: it installs the
// tracer provider, starts the spans the other packages ask for, and carries
// the W3C trace context into and out of the process. It is the only package
// that imports the OpenTelemetry SDK; the others use the small API below.
//
// One order is one trace: the rider's POST /trips starts it (or continues
// the caller's), the trace context travels with every call to the sidecar
// (GRPCInterceptor), daprd writes it into each event it publishes and sends
// it back with each delivery (Consume), so the trip, driver and
// notification services and their sidecars all add spans to the same
// trace, across retries and redeliveries.
package tracing

import (
	"context"
	"fmt"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Attribute keys the services put on their spans. TripID is what a reader
// searches by (Jaeger's "tags" search, make trace TRIP=<id>).
const (
	TripID  = attribute.Key("tripId")
	EventID = attribute.Key("eventId")
	Topic   = attribute.Key("messaging.destination.name")
	// Outcome is what became of a delivered event: SUCCESS, RETRY or DROP.
	Outcome = attribute.Key("outcome")
)

// instrumentation names the service's own spans' origin.
const instrumentation = "github.com/ride-choreography/services/dispatch"

// propagator reads and writes the W3C traceparent, as daprd does.
var propagator = propagation.TraceContext{}

// Options say where spans go and how many traces are kept.
type Options struct {
	// Service names the process in the tracing backend (service.name).
	Service string
	// Endpoint is the OTLP/gRPC collector, a URL such as
	// http://127.0.0.1:4317 (plain text) or https://collector:4317. With no
	// endpoint, spans are still made, so logs carry trace ids, but none
	// leaves the process.
	Endpoint string
	// SampleRatio is the share of new traces kept, from 0 to 1. A trace
	// that arrives sampled or not is kept or not as it says (parent based),
	// so one trip is kept whole or not at all.
	SampleRatio float64
}

// Setup installs the process-wide tracer provider and propagator. The
// returned shutdown flushes the spans not exported yet.
func Setup(opts Options) (shutdown func(context.Context) error, err error) {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(opts.Service)))
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	providerOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(opts.SampleRatio))),
	}
	if opts.Endpoint != "" {
		exporter, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpointURL(opts.Endpoint))
		if err != nil {
			return nil, fmt.Errorf("tracing exporter for %s: %w", opts.Endpoint, err)
		}
		providerOpts = append(providerOpts, sdktrace.WithBatcher(exporter))
	}
	provider := sdktrace.NewTracerProvider(providerOpts...)
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagator)
	return provider.Shutdown, nil
}

// Start starts a span named name, a child of the span in ctx. End it with
// End.
func Start(ctx context.Context, name string, kind trace.SpanKind, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	// The provider is looked up each time, not once: a tracer taken before
	// Setup would stay bound to the first provider ever installed.
	return otel.Tracer(instrumentation).Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
}

// End ends span, marked failed with err unless err is nil.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Fail marks span failed with reason, as End does with an error, for an
// outcome that is not a Go error (an event to be retried or dropped).
func Fail(span trace.Span, reason string) {
	span.SetStatus(codes.Error, reason)
}

// Consume starts the span of handling one event delivered with r: a
// consumer span whose parent is the delivery daprd traced (r's traceparent
// header) or, when daprd sent none, the traceparent the event carries.
func Consume(r *http.Request, topic, eventTraceParent string) (context.Context, trace.Span) {
	ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	if !trace.SpanContextFromContext(ctx).IsValid() {
		ctx = ContinueTrace(r.Context(), eventTraceParent)
	}
	return Start(ctx, topic+" process", trace.SpanKindConsumer, Topic.String(topic))
}

// ContinueTrace returns ctx in the trace of a W3C traceparent, or ctx
// itself when traceParent is not one.
func ContinueTrace(ctx context.Context, traceParent string) context.Context {
	return propagator.Extract(ctx, propagation.MapCarrier{"traceparent": traceParent})
}

// SetTripID puts the trip's id on the span in ctx, for a search by trip.
func SetTripID(ctx context.Context, id string) {
	trace.SpanFromContext(ctx).SetAttributes(TripID.String(id))
}

// TraceID returns the id of the trace ctx belongs to, or "".
func TraceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return ""
}

// GRPCInterceptor sends the trace context of each call's ctx to the
// sidecar as gRPC metadata, so that daprd's spans of the call (a publish, a
// state read) join the caller's trace, and a published event carries it.
func GRPCInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if trace.SpanContextFromContext(ctx).IsValid() {
			carrier := propagation.MapCarrier{}
			propagator.Inject(ctx, carrier)
			for k, v := range carrier {
				ctx = metadata.AppendToOutgoingContext(ctx, k, v)
			}
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
