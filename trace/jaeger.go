package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ErrNoTrace means the query API holds no trace of the trip.
var ErrNoTrace = errors.New("no trace found")

// Trace is one trace as Jaeger's query API answers it (/api/traces).
type Trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []Span             `json:"spans"`
	Processes map[string]Process `json:"processes"`
}

// Span is one span of a Trace. Times are in microseconds.
type Span struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	OperationName string      `json:"operationName"`
	References    []Reference `json:"references"`
	StartTime     int64       `json:"startTime"`
	Duration      int64       `json:"duration"`
	Tags          []Tag       `json:"tags"`
	ProcessID     string      `json:"processID"`
}

// Reference links a span to its parent (refType CHILD_OF).
type Reference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// Tag is a span attribute.
type Tag struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Process is what emitted spans: a service or a sidecar.
type Process struct {
	ServiceName string `json:"serviceName"`
}

// Client reads traces from a Jaeger query API.
type Client struct {
	BaseURL string
	HTTP    *http.Client
}

// FindTrip returns the traces with a span of any of services tagged
// tripId=tripID, waiting up to wait for a first one (spans reach the backend in batches,
// a moment after the trip). A trace is returned once it stops growing, so
// that the spans still on their way are in it.
func (c *Client) FindTrip(ctx context.Context, services []string, tripID string, wait time.Duration) ([]Trace, error) {
	deadline := time.Now().Add(wait)
	var last []Trace
	for {
		var traces []Trace
		seen := map[string]bool{}
		for _, service := range services {
			found, err := c.search(ctx, service, tripID)
			if err != nil {
				return nil, err
			}
			for _, t := range found {
				if !seen[t.TraceID] {
					seen[t.TraceID] = true
					traces = append(traces, t)
				}
			}
		}
		slices.SortFunc(traces, func(a, b Trace) int { return int(first(a) - first(b)) })
		if len(traces) > 0 && spanCount(traces) == spanCount(last) {
			return traces, nil
		}
		last = traces
		if time.Now().After(deadline) {
			if len(traces) > 0 {
				return traces, nil
			}
			return nil, fmt.Errorf("%w for trip %s in services %s at %s within %s (is tracing on, and the id right?)", ErrNoTrace, tripID, strings.Join(services, ", "), c.BaseURL, wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func spanCount(traces []Trace) int {
	n := 0
	for _, t := range traces {
		n += len(t.Spans)
	}
	return n
}

// search asks the query API once.
func (c *Client) search(ctx context.Context, service, tripID string) ([]Trace, error) {
	tags, err := json.Marshal(map[string]string{"tripId": tripID})
	if err != nil {
		return nil, err
	}
	q := url.Values{"service": {service}, "tags": {string(tags)}, "limit": {"20"}, "lookback": {"2d"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/api/traces?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", c.BaseURL, err)
	}
	httpClient := c.HTTP
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %s (is Jaeger running? make run starts it): %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read the answer of %s: %w", c.BaseURL, err)
	}
	var answer struct {
		Data   []Trace `json:"data"`
		Errors []struct {
			Msg string `json:"msg"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return nil, fmt.Errorf("%s answered %s, not a Jaeger query answer: %.200s", c.BaseURL, resp.Status, body)
	}
	if resp.StatusCode != http.StatusOK || len(answer.Errors) > 0 {
		return nil, fmt.Errorf("%s answered %s: %+v", c.BaseURL, resp.Status, answer.Errors)
	}
	return answer.Data, nil
}

// first is when the trace's first span started.
func first(t Trace) int64 {
	var start int64
	for i, s := range t.Spans {
		if i == 0 || s.StartTime < start {
			start = s.StartTime
		}
	}
	return start
}
