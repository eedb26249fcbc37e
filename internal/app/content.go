package app

import (
	"os"
	"path/filepath"
	"time"

	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/ml/text"
)

// ContentModelPath is where `shopguard train content --task T` saves a
// content text model under a data directory (shadow: the model that is
// scored and recorded on live posts but decides nothing), and where a
// running shopguard looks for it.
func ContentModelPath(dataDir string, t content.Task, shadow bool) string {
	name := t.String()
	if shadow {
		name += ".shadow"
	}
	return filepath.Join(dataDir, "models", "content", name+".model")
}

// contentModels keeps the content analyzer's text models current.
type contentModels struct {
	analyzer *content.Analyzer
	// mods are the loaded model files' modification times (zero: none),
	// by task and shadow.
	mods [content.NumTasks][2]time.Time
}

// startContent builds the content analyzer over the URL checker and
// loads the trained text models.
func (a *App) startContent() {
	a.content = &contentModels{analyzer: content.NewAnalyzer(a.urls.checker)}
	a.reloadContentModels()
}

// reloadContentModels loads content model files that are new or changed;
// a broken file is logged and the model in use stays. A removed file
// leaves the model in use until the next restart.
func (a *App) reloadContentModels() {
	if a.cfg.Storage.DataDir == "" {
		return
	}
	for i, t := range content.Tasks {
		for s, shadow := range []bool{false, true} {
			path := ContentModelPath(a.cfg.Storage.DataDir, t, shadow)
			reloadFile(a, path, &a.content.mods[i][s], func(b []byte) (string, error) {
				m, err := text.DecodeEnsemble(b)
				if err != nil {
					return "", err
				}
				st, err := os.Stat(path)
				if err != nil {
					return "", err
				}
				version := t.String() + "-" + st.ModTime().UTC().Format("20060102T150405Z")
				a.content.analyzer.SetModel(t, &content.TaskModel{Model: m, Version: version}, shadow)
				return version, nil
			})
		}
	}
}
