package app

import (
	"encoding/json"
	"testing"

	"github.com/ride-choreography/services/trip/internal/contracttest"
)

// TestTripCreatedMatchesContract validates what the service publishes
// against contracts/schemas/trip-created.schema.json.
func TestTripCreatedMatchesContract(t *testing.T) {
	schema := contracttest.Schema(t, "trip-created")
	tr, _, err := newService(newFakeStore()).Order(t.Context(), order, "")
	if err != nil {
		t.Fatal(err)
	}
	published, err := json.Marshal(newTripCreated(tr))
	if err != nil {
		t.Fatal(err)
	}
	if err := contracttest.Validate(t, schema, published); err != nil {
		t.Errorf("published trip-created %s violates the contract: %v", published, err)
	}
	// The check has teeth: the same event without its rider is refused.
	var event map[string]any
	_ = json.Unmarshal(published, &event)
	delete(event, "riderId")
	broken, _ := json.Marshal(event)
	if err := contracttest.Validate(t, schema, broken); err == nil {
		t.Errorf("schema accepted trip-created without riderId: %s", broken)
	}
}
