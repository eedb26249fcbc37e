package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/fraud/offline"
	"github.com/shopguard/shopguard/internal/ml/gbdt"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// Models live in the data directory, models/<tenant>/<kind>/<version>.sgm
// with the files "champion" and "challenger" naming the versions that
// score live and in shadow; or, with storage.driver postgres and no
// models.dir, in the database (storage.ModelStore), where every instance
// finds them.
const (
	modelsDir      = "models"
	championFile   = "champion"
	challengerFile = "challenger"
	modelExt       = ".sgm"
)

var versionRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// shelf is where a registry keeps model versions and which version plays
// each role (championFile, challengerFile).
type shelf interface {
	// save stores a new version and says where.
	save(tenant string, kind risk.EventKind, version string, b []byte) (string, error)
	// load returns a version's bytes (an error wrapping os.ErrNotExist or
	// storage.ErrNotFound when there is none).
	load(tenant string, kind risk.EventKind, version string) ([]byte, error)
	versions(tenant string, kind risk.EventKind) ([]string, error)
	role(tenant string, kind risk.EventKind, role string) (string, error)
	// setRole makes version play role; "" ends it.
	setRole(tenant string, kind risk.EventKind, role, version string) error
	tenants() ([]string, error)
}

// ModelRegistry keeps trained models: in a directory, or in the shared
// database.
type ModelRegistry struct {
	shelf shelf
}

// NewModelRegistry returns the registry under dataDir.
func NewModelRegistry(dataDir string) ModelRegistry {
	return ModelRegistry{shelf: dirShelf{root: filepath.Join(dataDir, modelsDir)}}
}

// Models returns the registry cfg names, with store the storage cfg
// opened (nil: not opened): models.dir; else the database when store keeps
// models (PostgreSQL); else the models directory under storage.data_dir.
// ok is false when there is none (the memory driver without models.dir),
// models then living only in memory.
func Models(cfg config.Config, store any) (reg ModelRegistry, ok bool) {
	if cfg.Models.Dir != "" {
		return ModelRegistry{shelf: dirShelf{root: cfg.Models.Dir}}, true
	}
	if ms, ok := store.(storage.ModelStore); ok {
		return ModelRegistry{shelf: dbShelf{st: ms}}, true
	}
	if cfg.Storage.DataDir == "" || cfg.Storage.Driver == config.DriverMemory {
		return ModelRegistry{}, false
	}
	return NewModelRegistry(cfg.Storage.DataDir), true
}

// ModelsInStorage reports whether cfg keeps its models in the database,
// so that Models needs the opened storage.
func ModelsInStorage(cfg config.Config) bool {
	return cfg.Models.Dir == "" && cfg.Storage.Driver == config.DriverPostgres
}

// NewVersion returns a version name for a model trained now.
func NewVersion(kind risk.EventKind, now time.Time) string {
	return string(kind) + "-" + now.UTC().Format("20060102t150405z")
}

// Save stores a model version and returns where (a file's path, or the
// database).
func (r ModelRegistry) Save(tenant string, kind risk.EventKind, version string, m *gbdt.Model) (string, error) {
	if !versionRE.MatchString(version) {
		return "", fmt.Errorf("app: model version %q: use lower-case letters, digits, . _ -", version)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return "", err
	}
	return r.shelf.save(tenant, kind, version, b)
}

// Versions lists a tenant's model versions of kind, oldest first.
func (r ModelRegistry) Versions(tenant string, kind risk.EventKind) ([]string, error) {
	return r.shelf.versions(tenant, kind)
}

// Champion returns the version that scores live ("" for none).
func (r ModelRegistry) Champion(tenant string, kind risk.EventKind) (string, error) {
	return r.shelf.role(tenant, kind, championFile)
}

// Challenger returns the version that scores in shadow ("" for none).
func (r ModelRegistry) Challenger(tenant string, kind risk.EventKind) (string, error) {
	return r.shelf.role(tenant, kind, challengerFile)
}

// Challenge makes version score in shadow beside the champion ("" stops
// the challenger), after checking that it loads.
func (r ModelRegistry) Challenge(tenant string, kind risk.EventKind, version string) error {
	if version != "" {
		if _, err := r.Load(tenant, kind, version); err != nil {
			return err
		}
	}
	return r.shelf.setRole(tenant, kind, challengerFile, version)
}

// Load reads and checks one version.
func (r ModelRegistry) Load(tenant string, kind risk.EventKind, version string) (*fraud.Model, error) {
	if !versionRE.MatchString(version) {
		return nil, fmt.Errorf("app: model version %q is not a version name", version)
	}
	b, err := r.shelf.load(tenant, kind, version)
	if err != nil {
		return nil, fmt.Errorf("app: model %s: %w", version, err)
	}
	gm, err := gbdt.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("app: model %s: %w", version, err)
	}
	return fraud.NewModel(gm, version)
}

// Promote makes version the champion after checking that it loads; a
// challenger promoted stops being the challenger.
func (r ModelRegistry) Promote(tenant string, kind risk.EventKind, version string) error {
	if _, err := r.Load(tenant, kind, version); err != nil {
		return err
	}
	if err := r.shelf.setRole(tenant, kind, championFile, version); err != nil {
		return err
	}
	if c, _ := r.Challenger(tenant, kind); c == version {
		return r.Challenge(tenant, kind, "")
	}
	return nil
}

// Tenants lists the tenants with models.
func (r ModelRegistry) Tenants() ([]string, error) { return r.shelf.tenants() }

// dirShelf keeps models as files under root: <tenant>/<kind>/<version>.sgm
// and a file per role naming its version.
type dirShelf struct {
	root string
}

func (d dirShelf) dir(tenant string, kind risk.EventKind) string {
	return filepath.Join(d.root, tenant, string(kind))
}

func (d dirShelf) save(tenant string, kind risk.EventKind, version string, b []byte) (string, error) {
	dir := d.dir(tenant, kind)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("app: models: %w", err)
	}
	path := filepath.Join(dir, version+modelExt)
	return path, writeAtomic(path, b)
}

func (d dirShelf) load(tenant string, kind risk.EventKind, version string) ([]byte, error) {
	return os.ReadFile(filepath.Join(d.dir(tenant, kind), version+modelExt))
}

func (d dirShelf) versions(tenant string, kind risk.EventKind) ([]string, error) {
	entries, err := readDir(d.dir(tenant, kind))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if v, ok := strings.CutSuffix(e.Name(), modelExt); ok && !e.IsDir() {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (d dirShelf) role(tenant string, kind risk.EventKind, role string) (string, error) {
	b, err := os.ReadFile(filepath.Join(d.dir(tenant, kind), role))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("app: models: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (d dirShelf) setRole(tenant string, kind risk.EventKind, role, version string) error {
	path := filepath.Join(d.dir(tenant, kind), role)
	if version == "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("app: models: %w", err)
		}
		return nil
	}
	return writeAtomic(path, []byte(version+"\n"))
}

func (d dirShelf) tenants() ([]string, error) {
	entries, err := readDir(d.root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// readDir lists dir, which need not exist yet (then it holds nothing).
func readDir(dir string) ([]os.DirEntry, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("app: models: %w", err)
	}
	return entries, nil
}

func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("app: %w", err)
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	return nil
}

// dbShelfTimeout bounds each call of a dbShelf.
const dbShelfTimeout = 30 * time.Second

// dbShelf keeps models in the shared database.
type dbShelf struct {
	st storage.ModelStore
}

func (d dbShelf) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), dbShelfTimeout)
}

func (d dbShelf) save(tenant string, kind risk.EventKind, version string, b []byte) (string, error) {
	ctx, cancel := d.ctx()
	defer cancel()
	if err := d.st.SaveModel(ctx, tenant, string(kind), version, b); err != nil {
		return "", err
	}
	return "the database (storage.url)", nil
}

func (d dbShelf) load(tenant string, kind risk.EventKind, version string) ([]byte, error) {
	ctx, cancel := d.ctx()
	defer cancel()
	return d.st.Model(ctx, tenant, string(kind), version)
}

func (d dbShelf) versions(tenant string, kind risk.EventKind) ([]string, error) {
	ctx, cancel := d.ctx()
	defer cancel()
	return d.st.ModelVersions(ctx, tenant, string(kind))
}

func (d dbShelf) role(tenant string, kind risk.EventKind, role string) (string, error) {
	ctx, cancel := d.ctx()
	defer cancel()
	return d.st.ModelRole(ctx, tenant, string(kind), role)
}

func (d dbShelf) setRole(tenant string, kind risk.EventKind, role, version string) error {
	ctx, cancel := d.ctx()
	defer cancel()
	return d.st.SetModelRole(ctx, tenant, string(kind), role, version)
}

func (d dbShelf) tenants() ([]string, error) {
	ctx, cancel := d.ctx()
	defer cancel()
	return d.st.ModelTenants(ctx)
}

// ReloadModels installs every tenant's champion and challenger
// transaction models that differ from what runs; a model that fails to
// load is logged and the one running keeps scoring.
func (a *App) ReloadModels(ctx context.Context) {
	reg, ok := Models(a.cfg, a.store)
	if !ok {
		return
	}
	tenants, err := reg.Tenants()
	if err != nil {
		a.log.Error("models: list tenants", "error", err)
		return
	}
	kind := risk.EventTransaction
	for _, t := range tenants {
		for _, slot := range []struct {
			role    string
			pointer func(string, risk.EventKind) (string, error)
			running func(context.Context, string, risk.EventKind) (string, error)
			install func(context.Context, string, risk.EventKind, engine.Model) error
		}{
			{"champion", reg.Champion, a.engine.ModelVersion, a.engine.SetModel},
			{"challenger", reg.Challenger, a.engine.ChallengerVersion, a.engine.SetChallenger},
		} {
			v, err := slot.pointer(t, kind)
			if err != nil {
				continue
			}
			cur, err := slot.running(ctx, t, kind)
			if err != nil || cur == v {
				continue
			}
			if v == "" { // a challenger was stopped
				if err := slot.install(ctx, t, kind, nil); err != nil {
					a.log.Error("models: remove", "tenant", t, "role", slot.role, "error", err)
				}
				continue
			}
			m, err := reg.Load(t, kind, v)
			if err != nil {
				a.log.Error("models: not loaded; the running model (if any) keeps scoring", "tenant", t, "role", slot.role, "version", v, "error", err)
				continue
			}
			if err := slot.install(ctx, t, kind, m); err != nil {
				a.log.Error("models: install", "tenant", t, "role", slot.role, "error", err)
				continue
			}
			a.log.Info("models: scoring", "tenant", t, "kind", kind, "role", slot.role, "version", v)
		}
	}
}

// TrainModel trains the tenant's transaction model on its stored
// decisions of the last days, saves it as a new version (when there is a
// data directory) and, with promote, makes it score live at once.
func (a *App) TrainModel(ctx context.Context, tenant string, days int, p gbdt.Params, promote bool) (string, offline.TrainReport, error) {
	now := time.Now()
	m, rep, err := offline.TrainFromEvents(ctx, a.store, tenant, now.AddDate(0, 0, -days), now.Add(time.Minute), 0.25, p, nil, nil)
	if err != nil {
		return "", rep, err
	}
	version := NewVersion(risk.EventTransaction, now)
	if reg, ok := Models(a.cfg, a.store); ok {
		if _, err := reg.Save(tenant, risk.EventTransaction, version, m); err != nil {
			return "", rep, err
		}
		if promote {
			if err := reg.Promote(tenant, risk.EventTransaction, version); err != nil {
				return "", rep, err
			}
			defer a.announce(ctx, storage.ChangeModels, tenant)
		}
	}
	if promote {
		fm, err := fraud.NewModel(m, version)
		if err != nil {
			return "", rep, err
		}
		if err := a.engine.SetModel(ctx, tenant, risk.EventTransaction, fm); err != nil {
			return "", rep, err
		}
	}
	return version, rep, nil
}

// TrainParams are the settings `train fraud` and scheduled retraining use
// unless told otherwise.
func TrainParams() gbdt.Params {
	return gbdt.Params{Trees: 500, LearningRate: 0.05, PositiveWeight: 5, EarlyStopping: 50, MaxLeaves: 31,
		Subsample: 0.8, ColSample: 0.8, Seed: 1}
}

// RetrainResult says what one tenant's scheduled retraining did.
type RetrainResult struct {
	Tenant string
	// Version is the new model ("" when none was trained: see Err);
	// Champion the version it was measured against ("" for none).
	Version, Champion string
	Report            offline.TrainReport
	// Promoted is true when Version became the champion, false when it
	// scores in shadow as the challenger.
	Promoted bool
	Err      error
}

// Retrain trains a new transaction model for every tenant with an API key
// on its labelled decisions of the last models.retrain_days, saves it, and
// by models.promote makes it the champion or the challenger. With
// if_better the new model and the champion are measured on the same
// newest labelled decisions (which the new model did not train on); it is
// promoted when its average precision is at least the champion's. A tenant
// with too few labelled frauds gets Err (wrapping gbdt.ErrTooFewPositives)
// and keeps its models.
func (a *App) Retrain(ctx context.Context) []RetrainResult {
	keys, err := a.store.Keys(ctx, "")
	if err != nil {
		a.log.Error("models: retrain: list tenants", "error", err)
		return nil
	}
	var tenants []string
	for _, k := range keys {
		if !slices.Contains(tenants, k.Tenant) {
			tenants = append(tenants, k.Tenant)
		}
	}
	slices.Sort(tenants)
	var out []RetrainResult
	for _, t := range tenants {
		if ctx.Err() != nil {
			break
		}
		r := a.retrainTenant(ctx, t)
		out = append(out, r)
		switch {
		case errors.Is(r.Err, gbdt.ErrTooFewPositives):
			a.log.Info("models: not retrained: too few labelled frauds", "tenant", t, "error", r.Err)
			continue
		case r.Err != nil:
			a.log.Error("models: retrain failed; the running models keep scoring", "tenant", t, "error", r.Err)
			continue
		}
		role := "challenger"
		if r.Promoted {
			role = "champion"
		}
		a.log.Info("models: retrained", "tenant", t, "version", r.Version, "role", role, "ap", r.Report.AP,
			"champion", r.Champion, "champion_ap", r.Report.BaselineAP, "events", r.Report.Events, "frauds", r.Report.Positives)
		detail := fmt.Sprintf("role %s; AUC %.3f AP %.3f on %d test decisions", role, r.Report.AUC, r.Report.AP, r.Report.TestRows)
		if r.Report.HasBaseline {
			detail += fmt.Sprintf("; champion %s: AUC %.3f AP %.3f", r.Champion, r.Report.BaselineAUC, r.Report.BaselineAP)
		}
		if err := a.store.AppendAudit(ctx, &storage.AuditEntry{Tenant: t, At: time.Now().UTC(), Actor: "scheduler",
			Action: "model.retrain", Target: r.Version, Detail: detail}); err != nil {
			a.log.Error("models: audit", "tenant", t, "error", err)
		}
		a.announce(ctx, storage.ChangeModels, t)
	}
	a.ReloadModels(ctx)
	return out
}

func (a *App) retrainTenant(ctx context.Context, tenant string) RetrainResult {
	r := RetrainResult{Tenant: tenant}
	reg, ok := Models(a.cfg, a.store)
	if !ok {
		r.Err = errors.New("app: retraining needs a directory for the models (storage.data_dir or models.dir)")
		return r
	}
	kind := risk.EventTransaction
	var baseline *gbdt.Model
	if v, err := reg.Champion(tenant, kind); err == nil && v != "" {
		if m, err := reg.Load(tenant, kind, v); err == nil {
			baseline, r.Champion = m.GBDT(), v
		}
	}
	now := time.Now()
	m, rep, err := offline.TrainFromEvents(ctx, a.store, tenant, now.AddDate(0, 0, -a.cfg.Models.RetrainDays), now.Add(time.Minute),
		0.25, TrainParams(), baseline, nil)
	r.Report = rep
	if err != nil {
		r.Err = err
		return r
	}
	r.Version = NewVersion(kind, now)
	if _, err := reg.Save(tenant, kind, r.Version, m); err != nil {
		r.Err = err
		return r
	}
	switch a.cfg.Models.Promote {
	case config.PromoteAlways:
		r.Promoted = true
	case config.PromoteIfBetter:
		r.Promoted = baseline == nil || rep.AP >= rep.BaselineAP
	}
	if r.Promoted {
		r.Err = reg.Promote(tenant, kind, r.Version)
	} else {
		r.Err = reg.Challenge(tenant, kind, r.Version)
	}
	return r
}

// SmallDataParams are training settings for a shop with little labelled
// history (hundreds of frauds at most): shallow trees, strong shrinkage.
func SmallDataParams() gbdt.Params {
	return gbdt.Params{Trees: 300, LearningRate: 0.05, MaxLeaves: 15, MinDataInLeaf: 5, PositiveWeight: 5,
		EarlyStopping: 40, Subsample: 0.8, ColSample: 0.8, Seed: 1}
}

// PromoteModel makes a saved model version the tenant's champion for kind
// and installs it at once (the API's promotion).
func (a *App) PromoteModel(ctx context.Context, tenant string, kind risk.EventKind, version string) error {
	if !versionRE.MatchString(version) {
		return fmt.Errorf("%w: model version %q", storage.ErrNotFound, version)
	}
	reg, ok := Models(a.cfg, a.store)
	if !ok {
		return fmt.Errorf("%w: model version %q (no model directory)", storage.ErrNotFound, version)
	}
	if err := reg.Promote(tenant, kind, version); err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: model version %q", storage.ErrNotFound, version)
		}
		return fmt.Errorf("%w: model version %q does not load: %v", storage.ErrConflict, version, err)
	}
	a.ReloadModels(ctx)
	a.announce(ctx, storage.ChangeModels, tenant)
	return nil
}
