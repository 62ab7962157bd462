package httpapi

import (
	"cmp"
	"encoding/json"
	"strconv"
	"strings"
)

// decimal is a JSON number exactly as written: (-1)^neg × 0.digits ×
// 10^exp. The digits have no leading or trailing zeros; a zero has none.
// The schemas' bounds are compared with decimals, not float64s, because a
// float64 rounds: 90.0000000000000001 would pass for 90, 1e-400 for the
// integer 0.
type decimal struct {
	neg    bool
	digits string
	exp    int
}

// hugeExponent bounds the exponents kept: a number with a larger one that
// a 64 KiB event can hold compares with the schemas' bounds as it would
// with its own.
const hugeExponent = 1 << 30

// parseDecimal reads n, a well-formed JSON number.
func parseDecimal(n json.Number) decimal {
	s := string(n)
	var d decimal
	s, d.neg = strings.CutPrefix(s, "-")
	mantissa, exponent := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mantissa, exponent = s[:i], s[i+1:]
	}
	whole, fraction, _ := strings.Cut(mantissa, ".")
	digits := strings.TrimLeft(whole+fraction, "0")
	// The point sits after the whole part; leading zeros move it left.
	d.exp = len(whole) - (len(whole+fraction) - len(digits))
	d.digits = strings.TrimRight(digits, "0")
	if exponent != "" {
		e, err := strconv.Atoi(exponent)
		if err != nil { // out of range
			e = hugeExponent
			if exponent[0] == '-' {
				e = -hugeExponent
			}
		}
		d.exp += max(-hugeExponent, min(e, hugeExponent))
	}
	if d.digits == "" {
		return decimal{}
	}
	return d
}

// sign returns -1, 0 or +1.
func (d decimal) sign() int {
	switch {
	case d.digits == "":
		return 0
	case d.neg:
		return -1
	default:
		return 1
	}
}

// isInteger reports whether d has no fractional part.
func (d decimal) isInteger() bool {
	return d.digits == "" || len(d.digits) <= d.exp
}

// compare returns -1, 0 or +1 as d is less than, equal to or greater
// than e.
func (d decimal) compare(e decimal) int {
	if c := cmp.Compare(d.sign(), e.sign()); c != 0 || d.sign() == 0 {
		return c
	}
	// Same sign, neither zero: compare magnitudes, then digits, which
	// without trailing zeros compare as strings.
	c := cmp.Compare(d.exp, e.exp)
	if c == 0 {
		c = strings.Compare(d.digits, e.digits)
	}
	if d.neg {
		return -c
	}
	return c
}

// decimalOf returns i as a decimal.
func decimalOf(i int) decimal {
	return parseDecimal(json.Number(strconv.Itoa(i)))
}
