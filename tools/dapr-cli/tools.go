//go:build tools

// Package tools pins the Dapr CLI build; see go.mod.
package tools

import _ "github.com/dapr/cli"
