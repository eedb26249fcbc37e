// Package docs embeds shopguard's operator documentation that the binary
// serves, such as the OpenAPI description of the /v1 API.
package docs

import _ "embed"

// OpenAPI is the OpenAPI 3.1 description of the /v1 API (openapi.yaml).
//
//go:embed openapi.yaml
var OpenAPI []byte
