//go:build tools

// Package tools pins the OpenTofu CLI build used to validate deploy/terraform; see go.mod.
package tools

import _ "github.com/opentofu/opentofu/cmd/tofu"
