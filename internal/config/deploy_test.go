package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestDeployConfigs: the configuration files under deploy/ (the systemd
// one and the one in the Kubernetes ConfigMap) load and validate with the
// secrets the deployment passes in the environment.
func TestDeployConfigs(t *testing.T) {
	env := []string{
		"SHOPGUARD_STORAGE_URL=postgres://shopguard:secret@db:5432/shopguard?sslmode=verify-full",
		"SHOPGUARD_STATE_URL=redis://:secret@cache:6379/0",
	}
	check := func(t *testing.T, file string) {
		t.Helper()
		c, err := Load(Options{File: file, Env: env})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if c.Storage.Driver != DriverPostgres || c.Storage.URL == "" || c.State.URL == "" || c.Authn.KeyFile == "" ||
			c.Gateway.ChallengeSecretFile == "" {
			t.Errorf("not a several-instance configuration: storage %+v, state %+v", c.Storage, c.State)
		}
		if c.Models.Dir != "" {
			t.Errorf("models.dir %q: models belong in PostgreSQL, where every instance finds them", c.Models.Dir)
		}
	}
	t.Run("systemd", func(t *testing.T) { check(t, filepath.Join("..", "..", "deploy", "shopguard.yaml")) })
	t.Run("kubernetes", func(t *testing.T) {
		body, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kubernetes.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(body))
		kinds := map[string]int{}
		for {
			var doc struct {
				Kind string            `yaml:"kind"`
				Data map[string]string `yaml:"data"`
			}
			if err := dec.Decode(&doc); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				t.Fatalf("manifest: %v", err)
			}
			kinds[doc.Kind]++
			if doc.Kind == "ConfigMap" {
				file := filepath.Join(t.TempDir(), "shopguard.yaml")
				if err := os.WriteFile(file, []byte(doc.Data["shopguard.yaml"]), 0o600); err != nil {
					t.Fatal(err)
				}
				check(t, file)
			}
		}
		// Models are in PostgreSQL: no volume is shared.
		if kinds["ConfigMap"] != 1 || kinds["Deployment"] != 2 || kinds["Service"] != 2 || kinds["PersistentVolumeClaim"] != 0 {
			t.Errorf("manifest holds %v, want a ConfigMap, two Deployments and Services, no volume claim", kinds)
		}
		if !strings.Contains(string(body), "/readyz") {
			t.Error("the API's readiness probe is not /readyz")
		}
	})
}
