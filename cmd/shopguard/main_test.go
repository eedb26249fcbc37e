package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shopguard-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "shopguard")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(binary, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("shopguard %v: %v\n%s", args, err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// server is a running `shopguard serve`.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
}

// syncBuffer collects a child's stderr while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func serve(t *testing.T, data string) *server {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--data", data, "--addr", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	found := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if u, ok := strings.CutPrefix(lines.Text(), "shopguard listening on "); ok {
				found <- u
			}
		}
	}()
	select {
	case u := <-found:
		return &server{cmd: cmd, url: u, logs: logs}
	case <-time.After(30 * time.Second):
		t.Fatalf("shopguard did not start:\n%s", logs)
	}
	return nil
}

func TestCrashLosesNoAcknowledgedDecision(t *testing.T) {
	data := t.TempDir()
	key := run(t, "keys", "create", "--tenant", "shop", "--data", data)
	ctx := context.Background()
	at := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	order := func(i int) client.Transaction {
		return client.Transaction{ID: fmt.Sprintf("ord-%d", i), CreatedAt: at, AmountMinor: 100, Currency: "EUR",
			DeviceID: "dev-1", Payment: &client.Payment{Method: "card", CardFingerprint: fmt.Sprintf("card-%d", i)}}
	}

	s := serve(t, data)
	c, _ := client.New(s.url, key, client.WithRetries(0))
	var ids []string
	for i := range 25 {
		d, err := c.ScoreTransaction(ctx, order(i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	// No graceful shutdown, no snapshot: the process just dies.
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()

	s = serve(t, data)
	c, _ = client.New(s.url, key, client.WithRetries(0))
	for i, id := range ids {
		ev, err := c.Event(ctx, id)
		if err != nil || ev.ExternalID != fmt.Sprintf("ord-%d", i) {
			t.Fatalf("acknowledged event %s after SIGKILL: %+v, %v", id, ev, err)
		}
	}
	// The features were rebuilt from the event log: the device has now tried 26 cards.
	d, err := c.ScoreTransaction(ctx, order(25))
	if err != nil {
		t.Fatal(err)
	}
	if got := deviceCards(t, c, d.ID); got != 26 {
		t.Errorf("device cards_1h after restart = %d, want 26\nlogs:\n%s", got, s.logs)
	}
	if d.Action != client.ActionBlock {
		t.Errorf("card testing after restart: %+v", d)
	}

	// A graceful stop writes a snapshot that the next start uses.
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, s.logs)
	}
	if _, err := os.Stat(filepath.Join(data, "features.snap")); err != nil {
		t.Fatalf("no snapshot after a graceful stop: %v", err)
	}
	s = serve(t, data)
	c, _ = client.New(s.url, key, client.WithRetries(0))
	d, err = c.ScoreTransaction(ctx, order(26))
	if err != nil {
		t.Fatal(err)
	}
	if got := deviceCards(t, c, d.ID); got != 27 {
		t.Errorf("device cards_1h after snapshot restore = %d, want 27", got)
	}
	if !strings.Contains(s.logs.String(), "features restored") || !strings.Contains(s.logs.String(), "snapshot_seq=26") {
		t.Errorf("the restart did not use the snapshot:\n%s", s.logs)
	}
}

func deviceCards(t *testing.T, c *client.Client, id string) int {
	t.Helper()
	ev, err := c.Event(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Features struct {
			Device struct {
				Cards1h int `json:"cards_1h"`
			} `json:"device"`
		} `json:"features"`
	}
	if err := json.Unmarshal(ev.Features, &env); err != nil {
		t.Fatal(err)
	}
	return env.Features.Device.Cards1h
}

func TestCLI(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		code    int
		wantOut string
	}{
		{"version", []string{"version"}, 0, "shopguard"},
		{"help", []string{"--help"}, 0, "serve"},
		{"unknown command", []string{"frobnicate"}, 1, "unknown command"},
		{"bad flag", []string{"serve", "--nope"}, 2, "unknown flag"},
		{"keys without tenant", []string{"keys", "create", "--data", data}, 1, "tenant"},
		{"bad tenant", []string{"keys", "create", "--tenant", "Bad Name", "--data", data}, 2, "--tenant"},
		{"bad scope", []string{"keys", "create", "--tenant", "t", "--scopes", "root", "--data", data}, 2, "unknown scope"},
		{"config sample", []string{"config", "sample"}, 0, `addr: "127.0.0.1:8080"`},
		{"config check missing file", []string{"config", "check", filepath.Join(data, "none.yaml")}, 1, "none.yaml"},
		{"train without tenant", []string{"train", "fraud"}, 1, `required flag(s) "tenant" not set`},
		{"train with nothing to learn from", []string{"train", "fraud", "--tenant", "shop", "--data", data}, 1, "too few positive and negative rows"},
		{"models promote unknown", []string{"models", "promote", "--tenant", "shop", "--data", data, "transaction-nope"}, 1, "transaction-nope"},
		{"models challenge without version", []string{"models", "challenge", "--tenant", "shop", "--data", data}, 2, "name a VERSION or give --stop"},
		{"models compare without challenger", []string{"models", "compare", "--tenant", "shop", "--data", data}, 1, "no challenger"},
		{"eval without input", []string{"eval", "fraud"}, 1, `required flag(s) "input" not set`},
		{"eval bad inputs", []string{"eval", "fraud", "--input", data, "--inputs", "everything"}, 2, "--inputs"},
		{"eval empty directory", []string{"eval", "fraud", "--input", data}, 2, "no .csv or .csv.gz files"},
		{"eval bad map", []string{"eval", "fraud", "--input", data, "--map", "colour=red"}, 2, "column map field"},
		{"eval account too short", []string{"eval", "account", "--days", "5", "--warmup-days", "5"}, 2, "--warmup-days"},
		{"eval account bad history", []string{"eval", "account", "--history", "24h"}, 2, "account.history"},
		{"eval account small", []string{"eval", "account", "--customers", "300", "--days", "3", "--warmup-days", "2", "--takeovers", "10", "--roc", filepath.Join(data, "roc.svg")},
			0, "takeover: targeted attacker"},
		{"demo bad fail policy", []string{"demo", "--fail-policy", "shrug"}, 2, "--fail-policy"},
		{"demo bad timeout", []string{"demo", "--timeout", "0s"}, 2, "--timeout"},
		{"demo unknown scenario", []string{"demo", "--headless", "--scenarios", "card_testing,ddos"}, 1, `unknown scenario "ddos"`},
		{"demo non-loopback shop", []string{"demo", "--headless", "--shop-addr", "0.0.0.0:0"}, 1, "only targets loopback"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary, tc.args...)
			cmd.Env = append(os.Environ(), "SHOPGUARD_CONFIG=")
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != tc.code {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tc.code, out)
			}
			if !strings.Contains(string(out), tc.wantOut) {
				t.Errorf("output lacks %q:\n%s", tc.wantOut, out)
			}
		})
	}
	t.Run("config check reports every problem", func(t *testing.T) {
		path := filepath.Join(data, "bad.yaml")
		os.WriteFile(path, []byte("server:\n  adress: x\n  max_body_bytes: lots\nlog:\n  level: loud\n"), 0o600)
		cmd := exec.Command(binary, "config", "check", path)
		out, _ := cmd.CombinedOutput()
		for _, want := range []string{"server.adress", "did you mean server.addr", "server.max_body_bytes", "log.level"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if cmd.ProcessState.ExitCode() != 1 {
			t.Errorf("exit code %d, want 1", cmd.ProcessState.ExitCode())
		}
	})
	t.Run("keys list and revoke", func(t *testing.T) {
		run(t, "keys", "create", "--tenant", "shop", "--name", "checkout", "--data", data)
		out := run(t, "keys", "list", "--data", data)
		fields := strings.Fields(strings.Split(out, "\n")[1])
		if fields[1] != "shop" || fields[2] != "checkout" {
			t.Fatalf("keys list:\n%s", out)
		}
		run(t, "keys", "revoke", fields[0], "--data", data)
		if out := run(t, "keys", "list", "--data", data); strings.Contains(strings.Split(out, "\n")[1], " -") {
			t.Errorf("revoked key not shown as revoked:\n%s", out)
		}
	})
}

// TestDemoBehindGateway runs the demo's flood and scraper against the shop
// behind shopguard gateway (the default): most of their requests are
// answered by the gateway, nearly none of the customers', and customers
// keep buying.
func TestDemoBehindGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("a 12-second demo; skipped with -short")
	}
	cmd := exec.Command(binary, "demo", "--headless", "--model=false", "--duration", "12s", "--customers", "200", "--rate", "8",
		"--scenarios", "shoppers,http_flood,scraper")
	cmd.Env = append(os.Environ(), "SHOPGUARD_CONFIG=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "The shop is behind shopguard gateway (http://127.0.0.1:") {
		t.Errorf("no gateway in front of the shop:\n%s", out)
	}
	refused := map[string]float64{}
	for _, line := range strings.Split(string(out), "\n") {
		// scenario, requests, reached the shop, refused in front, (share), failed or 5xx
		f := strings.Fields(line)
		if len(f) == 6 && strings.HasSuffix(f[4], "%") {
			share, err := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
			if err == nil {
				refused[f[0]] = share
			}
		}
	}
	for _, tc := range []struct {
		scenario string
		atLeast  float64
		atMost   float64
	}{
		// A 60-second demo refuses over 80 % of both; this short one, whose
		// flood lasts under 5 s and slows with a busy machine, less.
		{"http_flood", 25, 100}, {"scraper", 25, 100}, {"shoppers", 0, 1},
	} {
		got, ok := refused[tc.scenario]
		if !ok || got < tc.atLeast || got > tc.atMost {
			t.Errorf("%s: %.1f%% refused in front of the shop (found %v), want %.0f-%.0f%%\n%s", tc.scenario, got, ok, tc.atLeast, tc.atMost, out)
		}
	}
	m := regexp.MustCompile(`Legitimate checkouts wrongly stopped: \d+ of (\d+)`).FindStringSubmatch(string(out))
	if m == nil || m[1] == "0" {
		t.Errorf("customers bought nothing behind the gateway:\n%s", out)
	}
}

// TestDemoCommand runs a short `shopguard demo` end to end, and one stopped
// with Ctrl-C: both exit 0 and print the results table.
func TestDemoCommand(t *testing.T) {
	export := filepath.Join(t.TempDir(), "export")
	cmd := exec.Command(binary, "demo", "--headless", "--duration", "4s", "--customers", "100", "--rate", "5", "--export", export)
	cmd.Env = append(os.Environ(), "SHOPGUARD_CONFIG=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	for _, want := range []string{"Demo shop:      http://localhost:", "Dashboard:      http://localhost:", "/dashboard/  (sign in as demo-admin, password ", "shoppers (legit)", "card_testing (attack)", "stolen_card (attack)",
		"Legitimate checkouts wrongly stopped", "Labelled data written to"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, f := range []string{"transactions.jsonl", "transactions.csv", "requests.csv"} {
		if st, err := os.Stat(filepath.Join(export, f)); err != nil || st.Size() == 0 {
			t.Errorf("export %s: %v", f, err)
		}
	}

	t.Run("ctrl-c", func(t *testing.T) {
		cmd := exec.Command(binary, "demo", "--headless", "--duration", "1m", "--customers", "50", "--rate", "5")
		cmd.Env = append(os.Environ(), "SHOPGUARD_CONFIG=")
		var buf syncBuffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(buf.String(), "Simulating") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Second)
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("demo after Ctrl-C: %v\n%s", err, buf.String())
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("demo did not stop after Ctrl-C:\n%s", buf.String())
		}
		if !strings.Contains(buf.String(), "Legitimate checkouts wrongly stopped") {
			t.Errorf("no results table after Ctrl-C:\n%s", buf.String())
		}
	})
}
