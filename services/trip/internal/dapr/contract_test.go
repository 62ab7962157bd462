package dapr

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ride-choreography/services/trip/internal/contracttest"
)

// TestDecodersAgreeWithContracts: the service accepts exactly the events
// the contract accepts, so it drops nothing a conforming producer sends and
// takes nothing the contract forbids.
func TestDecodersAgreeWithContracts(t *testing.T) {
	const notFound = `{"tripId":"` + exampleTripID + `","riderId":"r","reason":"none free","decidedAt":"2026-11-27T09:31:00Z"}`
	tests := []struct {
		topic string
		data  string
	}{
		{topic: "driver-assigned", data: exampleData(t, "driver-assigned")},
		{topic: "driver-assigned", data: assignedData},
		{topic: "driver-assigned", data: strings.Replace(assignedData, `"riderId":"r",`, ``, 1)},
		{topic: "driver-assigned", data: strings.Replace(assignedData, `"name":"Jarda"`, `"name":""`, 1)},
		{topic: "driver-assigned", data: strings.Replace(assignedData, `240`, `-5`, 1)},
		{topic: "driver-assigned", data: strings.Replace(assignedData, `240`, `0`, 1)},
		{topic: "driver-assigned", data: strings.Replace(assignedData, exampleTripID, "not-a-uuid", 1)},
		{topic: "driver-assigned", data: strings.Replace(assignedData, `"2026-11-27T09:30:01Z"`, `"2026-11-27"`, 1)},
		{topic: "driver-assigned", data: strings.Replace(assignedData, `{"tripId"`, `{"extra":true,"tripId"`, 1)},
		{topic: "driver-not-found", data: exampleData(t, "driver-not-found")},
		{topic: "driver-not-found", data: notFound},
		{topic: "driver-not-found", data: strings.Replace(notFound, `"reason":"none free",`, ``, 1)},
		{topic: "driver-not-found", data: strings.Replace(notFound, `"riderId":"r"`, `"riderId":5`, 1)},
	}
	decoders := map[string]func([]byte) error{
		"driver-assigned":  func(b []byte) error { _, err := decodeDriverAssigned(b); return err },
		"driver-not-found": func(b []byte) error { _, err := decodeDriverNotFound(b); return err },
	}
	for _, tt := range tests {
		schemaErr := contracttest.Validate(t, contracttest.Schema(t, tt.topic), []byte(tt.data))
		decodeErr := decoders[tt.topic]([]byte(tt.data))
		if (schemaErr == nil) != (decodeErr == nil) {
			t.Errorf("%s %s:\n  contract says %v\n  decoder says %v", tt.topic, tt.data, schemaErr, decodeErr)
		}
	}
}

func exampleData(t *testing.T, name string) string {
	t.Helper()
	var ce struct{ Data json.RawMessage }
	if err := json.Unmarshal(contracttest.Example(t, name), &ce); err != nil {
		t.Fatal(err)
	}
	return string(ce.Data)
}
