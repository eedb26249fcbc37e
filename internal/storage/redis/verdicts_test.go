package redis

import (
	"os"
	"testing"
	"time"
)

// TestBotVerdictsShared: a verdict one gateway publishes is read by the
// other within a second, not by itself; a withdrawal ends it.
func TestBotVerdictsShared(t *testing.T) {
	a := testState(t)
	b := openPrefixed(t, os.Getenv("SHOPGUARD_TEST_REDIS_URL"), a.prefix)
	va, vb := a.BotVerdicts(100, nil), b.BotVerdicts(100, nil)
	defer va.Close()
	defer vb.Close()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within a second", what)
			}
		}
	}
	// The subscriptions start in the background: publish until heard.
	waitFor("B hears A's verdict", func() bool {
		va.Publish("192.0.2.7", 97)
		return vb.Verdict("192.0.2.7") == 97
	})
	if va.Verdict("192.0.2.7") != 0 {
		t.Error("A reads its own verdict back")
	}
	vb.Publish("192.0.2.7", 60)
	waitFor("A hears B's verdict", func() bool { return va.Verdict("192.0.2.7") == 60 })
	va.Publish("192.0.2.7", 0)
	waitFor("A's withdrawal", func() bool { return vb.Verdict("192.0.2.7") == 0 })
}

// TestBotVerdictsReceive: messages are parsed strictly, verdicts of
// several gateways stand side by side until they expire or are withdrawn,
// and the addresses kept are bounded.
func TestBotVerdictsReceive(t *testing.T) {
	v := &BotVerdicts{id: "me", max: 2, m: map[string][]verdict{}}
	now := time.Now()
	for _, msg := range []string{"", "g1", "g1 90", "g1 x 192.0.2.1", "g1 101 192.0.2.1", "g1 -1 192.0.2.1", "me 90 192.0.2.1",
		"g1 90 " + string(make([]byte, 65))} {
		v.receive(msg, now)
	}
	if v.Len() != 0 {
		t.Fatalf("malformed or own messages kept: %v", v.m)
	}
	v.receive("g1 70 192.0.2.1", now)
	v.receive("g2 90 192.0.2.1", now)
	if got := v.Verdict("192.0.2.1"); got != 90 {
		t.Errorf("two gateways' verdicts: %d, want the higher, 90", got)
	}
	v.receive("g2 0 192.0.2.1", now)
	if got := v.Verdict("192.0.2.1"); got != 70 {
		t.Errorf("after g2 withdrew: %d, want g1's 70", got)
	}
	v.receive("g1 80 192.0.2.2", now)
	v.receive("g1 80 192.0.2.3", now)
	if v.Len() != 2 {
		t.Errorf("%d addresses kept, want the bound of 2", v.Len())
	}
	// Once expired, verdicts make room first: a message heard after the
	// others expired leaves only itself.
	v.receive("g1 80 192.0.2.4", now.Add(VerdictTTL+time.Second))
	if v.Len() != 1 || v.Verdict("192.0.2.4") != 80 {
		t.Errorf("after the others expired: %d addresses, verdict %d; want 1 and 80", v.Len(), v.Verdict("192.0.2.4"))
	}
}
