//go:build tools

// Package tools pins the Docker Compose CLI build; see go.mod.
package tools

import _ "github.com/docker/compose/v5/cmd"
