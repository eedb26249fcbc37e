package apptest

import (
	"testing"

	"github.com/shopguard/shopguard/internal/assistant"
)

// WarmAssistant trains the support assistant's built-in intent
// classifier (once per process) before a test starts its clock: an app
// trains it in the background, and under the race detector on a loaded
// machine that can take longer than a client waits for its first answer.
func WarmAssistant(t testing.TB) {
	t.Helper()
	if _, err := assistant.BuiltinClassifier(); err != nil {
		t.Fatal(err)
	}
}
