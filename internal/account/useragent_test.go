package account

import "testing"

func TestParseUserAgent(t *testing.T) {
	tests := []struct {
		ua   string
		want Client
	}{
		{"", Client{}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.85 Safari/537.36", Client{"Windows", "Chrome 131"}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70", Client{"Windows", "Edge 131"}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15", Client{"macOS", "Safari 17"}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1", Client{"iOS", "Safari 17"}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", Client{"iOS", "Chrome 131"}},
		{"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", Client{"Android", "Samsung Internet 26"}},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", Client{"Linux", "Firefox 133"}},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0", Client{"ChromeOS", "Opera 115"}},
		{"curl/8.5.0", Client{"", "curl 8"}},
		{"python-requests/2.31.0", Client{"", "python-requests 2"}},
		{"Version/x", Client{"", "Version"}}, // no Safari token: not Safari
		{"weird", Client{"", "weird"}},
	}
	for _, tt := range tests {
		if got := ParseUserAgent(tt.ua); got != tt.want {
			t.Errorf("ParseUserAgent(%q) = %+v, want %+v", tt.ua, got, tt.want)
		}
	}
}
