package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"

	"github.com/shopguard/shopguard/internal/risk"
)

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSampleLoadsAsDefault(t *testing.T) {
	path := writeTemp(t, Sample())
	got, err := Load(Options{File: path})
	if err != nil {
		t.Fatalf("Load(Sample()) = %v", err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("Load(Sample()) =\n%s\nwant Default()\n%s", got.YAML(), Default().YAML())
	}
}

func TestSampleHasEveryKey(t *testing.T) {
	k := koanf.New(".")
	if err := k.Load(file.Provider(writeTemp(t, Sample())), yaml.Parser()); err != nil {
		t.Fatal(err)
	}
	if got, want := k.Keys(), Keys(); !slices.Equal(got, want) {
		t.Errorf("Sample() keys =\n%v\nwant\n%v", got, want)
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	c := Default()
	c.Server.Addr = `[::1]:9443`
	c.Server.ReadTimeout = 90 * time.Second
	c.Server.IdleTimeout = 2*time.Hour + 500*time.Millisecond
	c.Server.KeyCacheTTL = 0
	c.Storage.DataDir = `C:\data "shop"`
	c.Storage.CommitBatch = 1
	c.Decisions.Thresholds["message"] = risk.Thresholds{Review: 1, Challenge: 101, Block: 101}
	c.Log.Level = "debug"

	got, err := Load(Options{File: writeTemp(t, c.YAML())})
	if err != nil {
		t.Fatalf("Load(c.YAML()) = %v\n%s", err, c.YAML())
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip =\n%s\nwant\n%s", got.YAML(), c.YAML())
	}
}

func TestFormatDuration(t *testing.T) {
	tests := map[time.Duration]string{
		0:                                "0s",
		5 * time.Second:                  "5s",
		90 * time.Second:                 "1m30s",
		5 * time.Minute:                  "5m",
		2 * time.Hour:                    "2h",
		2*time.Hour + 30*time.Minute:     "2h30m",
		time.Hour + time.Second:          "1h0m1s",
		1500 * time.Millisecond:          "1.5s",
		2*time.Minute + time.Millisecond: "2m0.001s",
	}
	for d, want := range tests {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(want); err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", want, back, err, d)
		}
	}
}
