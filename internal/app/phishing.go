package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/shopguard/shopguard/internal/ml/text"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/storage"
)

// URLModelPath is where `shopguard train urls` saves the learned URL
// model under a data directory, and where a running shopguard looks for it.
func URLModelPath(dataDir string) string {
	return filepath.Join(dataDir, "models", "phishing", "urls.model")
}

// MessageModelPath is where `shopguard train messages` saves the message
// model under a data directory, and where a running shopguard looks for it.
func MessageModelPath(dataDir string) string {
	return filepath.Join(dataDir, "models", "phishing", "messages.model")
}

// binaryModel is a model that encodes itself.
type binaryModel interface{ MarshalBinary() ([]byte, error) }

// SaveModelFile writes m to path atomically (a running shopguard picks
// it up within modelPoll).
func SaveModelFile(path string, m binaryModel) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	return writeAtomic(path, b)
}

// urlChecks keeps the URL checker's lists and model current.
type urlChecks struct {
	checker *phishing.Checker
	list    *phishing.URLList
	// urlMod and messageMod are the loaded model files' modification
	// times (zero: none).
	urlMod, messageMod time.Time
}

// startURLChecks builds the URL checker: the lists from the change log,
// the learned model if one was trained.
func (a *App) startURLChecks(ctx context.Context) error {
	a.urls = &urlChecks{list: phishing.NewURLList()}
	a.urls.checker = phishing.NewChecker(a.urls.list)
	n, err := a.urls.list.Sync(ctx, a.store)
	if err != nil {
		return fmt.Errorf("app: URL lists: %w", err)
	}
	if n > 0 {
		a.log.Info("URL lists loaded", "entries", a.urls.list.Len())
	}
	a.reloadURLModel()
	return nil
}

// RefreshURLChecks applies URL-list changes made elsewhere (shopguard
// feeds import) and loads newly trained URL, message and content models;
// a running shopguard calls it every 15 seconds.
func (a *App) RefreshURLChecks(ctx context.Context) {
	if n, err := a.urls.list.Sync(ctx, a.store); err != nil && ctx.Err() == nil {
		a.log.Error("URL list sync failed", "error", err)
	} else if n > 0 {
		a.log.Info("URL lists changed", "changes", n, "entries", a.urls.list.Len())
	}
	a.reloadURLModel()
	a.reloadContentModels()
}

// reloadURLModel loads the URL and message model files when they are
// new or changed. A broken file is logged and the model in use stays.
func (a *App) reloadURLModel() {
	if a.cfg.Storage.DataDir == "" {
		return
	}
	reloadFile(a, URLModelPath(a.cfg.Storage.DataDir), &a.urls.urlMod, func(b []byte) (string, error) {
		m, err := phishing.DecodeURLModel(b)
		if err != nil {
			return "", err
		}
		a.urls.checker.SetModel(m)
		return m.Version(), nil
	})
	reloadFile(a, MessageModelPath(a.cfg.Storage.DataDir), &a.urls.messageMod, func(b []byte) (string, error) {
		m, err := text.DecodeModel(b)
		if err != nil {
			return "", err
		}
		st, err := os.Stat(MessageModelPath(a.cfg.Storage.DataDir))
		if err != nil {
			return "", err
		}
		version := "messages-" + st.ModTime().UTC().Format("20060102T150405Z")
		a.urls.checker.SetMessageModel(&phishing.MessageModel{Model: m, Version: version})
		return version, nil
	})
}

// reloadFile calls load with the file at path when its modification time
// differs from *mod, and logs what happened.
func reloadFile(a *App, path string, mod *time.Time, load func([]byte) (version string, err error)) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		a.log.Error("model file unreadable", "path", path, "error", err)
		return
	}
	if st.ModTime().Equal(*mod) {
		return
	}
	*mod = st.ModTime()
	b, err := os.ReadFile(path)
	if err == nil {
		var version string
		if version, err = load(b); err == nil {
			a.log.Info("model loaded", "path", path, "version", version)
			return
		}
	}
	a.log.Error("model refused; the one in use stays", "path", path, "error", err)
}

// ConfirmedPhishingURL lists a link staff confirmed as phishing on the
// tenant's block list (source "report") and applies it at once. Listing
// it again does nothing.
func (a *App) ConfirmedPhishingURL(ctx context.Context, tenant string, u phishing.URL, reportID string) error {
	entry := storage.URLListEntry{Tenant: tenant, Hash: phishing.HashExpression(phishing.URLExpression(u)),
		Effect: storage.URLListBlock, Source: phishing.URLListSourceReport}
	if _, err := a.store.AddURLListChanges(ctx, []storage.URLListChange{{URLListEntry: entry, Op: storage.URLListAdd, At: time.Now()}}); err != nil {
		return fmt.Errorf("app: listing the link of report %s: %w", reportID, err)
	}
	if _, err := a.urls.list.Sync(ctx, a.store); err != nil {
		return fmt.Errorf("app: applying the link of report %s: %w", reportID, err)
	}
	return nil
}
