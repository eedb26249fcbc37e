package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadSMS reads the SMS Spam Collection's format and names the line
// of anything else.
func TestLoadSMS(t *testing.T) {
	dir := t.TempDir()
	good := strings.Repeat("ham\tSee you at 8?\nspam\tWINNER!! Claim your prize: call 09061701461\n", 5)
	tests := []struct {
		name, body, err string
		n, spam         int
	}{
		{"good", good, "", 10, 5},
		{"no tab", good + "ham see you\n", "line 11", 0, 0},
		{"other label", good + "junk\tbuy now\n", "line 11", 0, 0},
		{"too few", "ham\thi\nspam\tprize\n", "only 2 messages", 0, 0},
		{"empty", "", "only 0 messages", 0, 0},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, tt.name)
		if err := os.WriteFile(p, []byte(tt.body), 0o600); err != nil {
			t.Fatal(err)
		}
		texts, labels, err := loadSMS(p)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		var spam int
		for _, l := range labels {
			if l {
				spam++
			}
		}
		if err != nil || len(texts) != tt.n || spam != tt.spam || texts[1] != "WINNER!! Claim your prize: call 09061701461" {
			t.Errorf("%s: %d texts, %d spam, %v", tt.name, len(texts), spam, err)
		}
	}
	if _, _, err := loadSMS(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file read")
	}
}

// FuzzLoadSMS: any file is messages or an error, never a crash.
func FuzzLoadSMS(f *testing.F) {
	f.Add([]byte("ham\thi\nspam\tprize\n"))
	f.Add([]byte("spam\t\t\t\n\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "sms")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		texts, labels, err := loadSMS(p)
		if err == nil && (len(texts) != len(labels) || len(texts) < 10) {
			t.Fatalf("%d texts, %d labels", len(texts), len(labels))
		}
	})
}
