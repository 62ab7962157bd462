package testkit

import (
	"sync"
	"time"
)

// Counted is one assignment a Metrics counted.
type Counted struct {
	Outcome string
	Waited  time.Duration
}

// Metrics is an app.Metrics that remembers what it counted.
type Metrics struct {
	mu      sync.Mutex
	counted []Counted
}

// AssignmentRecorded implements app.Metrics.
func (m *Metrics) AssignmentRecorded(outcome string, waited time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counted = append(m.counted, Counted{Outcome: outcome, Waited: waited})
}

// Assignments returns every assignment counted so far, in order.
func (m *Metrics) Assignments() []Counted {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Counted(nil), m.counted...)
}
