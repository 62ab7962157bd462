package httpapi

import (
	"encoding/json"
	"testing"
)

func TestDecimalCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"90", "90", 0},
		{"90.0", "90", 0},
		{"9e1", "90", 0},
		{"0.9E+2", "90", 0},
		{"900e-1", "90", 0},
		{"000", "-0", 0},
		{"0e99999999999999999999", "0", 0},
		{"90.0000000000000001", "90", 1},
		{"89.9999999999999999", "90", -1},
		{"-90.0000000000000001", "-90", -1},
		{"-89.9999999999999999", "-90", 1},
		{"1e-400", "0", 1},
		{"-1e-400", "0", -1},
		{"1e99999999999999999999", "180", 1},
		{"-1e99999999999999999999", "-180", -1},
		{"1e-99999999999999999999", "0", 1},
		{"123.45", "123.5", -1},
		{"123.45", "123.4", 1},
		{"100", "99.999", 1},
		{"-100", "-99.999", -1},
		{"0.001", "0.01", -1},
	}
	for _, tt := range tests {
		a, b := parseDecimal(json.Number(tt.a)), parseDecimal(json.Number(tt.b))
		if got := a.compare(b); got != tt.want {
			t.Errorf("compare(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := b.compare(a); got != -tt.want {
			t.Errorf("compare(%s, %s) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestDecimalIsInteger(t *testing.T) {
	tests := []struct {
		n    string
		want bool
	}{
		{"0", true},
		{"-0", true},
		{"240", true},
		{"240.0", true},
		{"2.4e2", true},
		{"2400e-1", true},
		{"1e400", true},
		{"0e-99999999999999999999", true},
		{"1.5", false},
		{"240.0000000000000001", false},
		{"1e-400", false},
		{"12345678901234567890.5", false},
		{"1e-99999999999999999999", false},
	}
	for _, tt := range tests {
		if got := parseDecimal(json.Number(tt.n)).isInteger(); got != tt.want {
			t.Errorf("isInteger(%s) = %t, want %t", tt.n, got, tt.want)
		}
	}
}
