// Package webauthnjs holds the browser script that runs WebAuthn
// ceremonies from the JSON options shopguard sends and returns the
// browser's answer as the JSON shopguard takes back. The hosted step-up
// pages and the dashboard serve it.
package webauthnjs

import (
	_ "embed"
	"net/http"
)

//go:embed webauthn.js
var script []byte

// Handler serves the script.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(script)
	})
}
