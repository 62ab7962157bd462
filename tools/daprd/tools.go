//go:build tools

// Package tools pins the daprd sidecar build; see go.mod.
package tools

import _ "github.com/dapr/dapr/cmd/daprd"
