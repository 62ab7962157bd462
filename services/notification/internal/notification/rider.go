package notification

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidRiderID means a rider id is empty, longer than MaxRiderIDLength
// characters, not UTF-8 or holds a control character.
var ErrInvalidRiderID = errors.New("invalid rider id")

// MaxRiderIDLength is the longest rider id, in characters.
const MaxRiderIDLength = 128

// ValidateRiderID reports whether id can name a rider.
func ValidateRiderID(id string) error {
	if !utf8.ValidString(id) {
		return fmt.Errorf("%w: not UTF-8", ErrInvalidRiderID)
	}
	if n := utf8.RuneCountInString(id); n < 1 || n > MaxRiderIDLength {
		return fmt.Errorf("%w: %d characters, want 1 to %d", ErrInvalidRiderID, n, MaxRiderIDLength)
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: control character %U", ErrInvalidRiderID, r)
		}
	}
	return nil
}
