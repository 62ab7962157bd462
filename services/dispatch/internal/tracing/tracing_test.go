package tracing_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/ride-choreography/services/dispatch/internal/tracing"
)

const (
	daprdParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	eventParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
)

// record installs a tracer provider that keeps every ended span, for the
// test's duration.
func record(t *testing.T) *tracetest.SpanRecorder {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	old := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	t.Cleanup(func() { otel.SetTracerProvider(old) })
	return spans
}

func TestConsumeContinuesDaprdsDelivery(t *testing.T) {
	spans := record(t)
	r := httptest.NewRequest("POST", "/events/trip-created", nil)
	r.Header.Set("traceparent", daprdParent)

	_, span := tracing.Consume(r, "trip-created", eventParent)
	span.End()

	got := spans.Ended()[0]
	if got.Parent().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || got.Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("parent = %v, want daprd's delivery span", got.Parent())
	}
	if got.Name() != "trip-created process" || got.SpanKind() != trace.SpanKindConsumer {
		t.Errorf("span %q of kind %v, want a consumer span named \"trip-created process\"", got.Name(), got.SpanKind())
	}
}

func TestConsumeFallsBackToTheEventsTraceparent(t *testing.T) {
	for name, header := range map[string]string{
		"no header":                       "",
		"daprd's all-zero trace (off)":    "00-00000000000000000000000000000000-0000000000000000-00",
		"a header that is no traceparent": "hello",
	} {
		t.Run(name, func(t *testing.T) {
			spans := record(t)
			r := httptest.NewRequest("POST", "/events/trip-created", nil)
			if header != "" {
				r.Header.Set("traceparent", header)
			}
			ctx, span := tracing.Consume(r, "trip-created", eventParent)
			span.End()
			if got := spans.Ended()[0].Parent(); got.SpanID().String() != "b7ad6b7169203331" {
				t.Errorf("parent = %v, want the event's traceparent", got)
			}
			if got := tracing.TraceID(ctx); got != "0af7651916cd43dd8448eb211c80319c" {
				t.Errorf("TraceID = %q, want the event's trace", got)
			}
		})
	}
}

func TestConsumeWithNoTraceStartsOne(t *testing.T) {
	record(t)
	r := httptest.NewRequest("POST", "/events/trip-created", nil)
	ctx, span := tracing.Consume(r, "trip-created", "not a traceparent")
	span.End()
	if got := tracing.TraceID(ctx); len(got) != 32 || strings.Trim(got, "0") == "" {
		t.Errorf("TraceID = %q, want a new trace's id", got)
	}
}

func TestEndMarksAFailedSpan(t *testing.T) {
	spans := record(t)
	_, ok := tracing.Start(t.Context(), "state get", trace.SpanKindClient)
	tracing.End(ok, nil)
	_, failed := tracing.Start(t.Context(), "state save", trace.SpanKindClient)
	tracing.End(failed, errors.New("store unavailable"))

	ended := spans.Ended()
	if ended[0].Status().Code != codes.Unset {
		t.Errorf("span ended without error has status %v", ended[0].Status())
	}
	if st := ended[1].Status(); st.Code != codes.Error || st.Description != "store unavailable" || len(ended[1].Events()) != 1 {
		t.Errorf("failed span: status %v, %d events; want Error \"store unavailable\" and the error recorded", st, len(ended[1].Events()))
	}
}

func TestSetTripIDTagsTheSpan(t *testing.T) {
	spans := record(t)
	ctx, span := tracing.Start(t.Context(), "POST /trips", trace.SpanKindServer)
	tracing.SetTripID(ctx, "trip-1")
	span.End()
	attrs := spans.Ended()[0].Attributes()
	if len(attrs) != 1 || attrs[0] != tracing.TripID.String("trip-1") {
		t.Errorf("attributes %v, want tripId=trip-1", attrs)
	}
}

func TestGRPCInterceptorSendsTheTraceContext(t *testing.T) {
	record(t)
	intercept := tracing.GRPCInterceptor()
	var sent metadata.MD
	invoker := func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
		sent, _ = metadata.FromOutgoingContext(ctx)
		return nil
	}

	ctx, span := tracing.Start(tracing.ContinueTrace(t.Context(), eventParent), "trip-created publish", trace.SpanKindProducer)
	defer span.End()
	if err := intercept(ctx, "/dapr.proto.runtime.v1.Dapr/PublishEvent", nil, nil, nil, invoker); err != nil {
		t.Fatal(err)
	}
	want := "00-0af7651916cd43dd8448eb211c80319c-" + span.SpanContext().SpanID().String() + "-01"
	if got := sent.Get("traceparent"); len(got) != 1 || got[0] != want {
		t.Errorf("traceparent sent = %v, want [%s]: the caller's span", got, want)
	}

	sent = nil
	if err := intercept(t.Context(), "/dapr.proto.runtime.v1.Dapr/GetState", nil, nil, nil, invoker); err != nil {
		t.Fatal(err)
	}
	if got := sent.Get("traceparent"); len(got) != 0 {
		t.Errorf("a call outside any trace sent traceparent %v", got)
	}
}

// setUp installs the tracer provider as run does, with no endpoint, for
// the test's duration.
func setUp(t *testing.T, ratio float64) {
	t.Helper()
	old := otel.GetTracerProvider()
	shutdown, err := tracing.Setup(tracing.Options{Service: "test", SampleRatio: ratio})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = shutdown(context.Background())
		otel.SetTracerProvider(old)
	})
}

func TestSetupWithoutEndpointStillMakesTraces(t *testing.T) {
	setUp(t, 1)
	ctx, span := tracing.Start(t.Context(), "POST /trips", trace.SpanKindServer)
	defer span.End()
	if !span.SpanContext().IsSampled() || tracing.TraceID(ctx) == "" {
		t.Errorf("span %v: want a sampled span with a trace id, for the logs", span.SpanContext())
	}
}

func TestSetupSamplesNewTracesByRatioAndFollowsTheParent(t *testing.T) {
	setUp(t, 0)

	_, root := tracing.Start(t.Context(), "POST /trips", trace.SpanKindServer)
	root.End()
	if root.SpanContext().IsSampled() || !root.SpanContext().HasTraceID() {
		t.Errorf("new trace at ratio 0: %v, want not sampled, with a trace id", root.SpanContext())
	}
	_, child := tracing.Start(tracing.ContinueTrace(t.Context(), eventParent), "trip-created process", trace.SpanKindConsumer)
	child.End()
	if !child.SpanContext().IsSampled() {
		t.Error("a span of a sampled trace was not sampled: one trip must be kept whole")
	}
}
