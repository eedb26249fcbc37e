package assistant

import (
	"embed"
	"net/http"
	"strings"
)

//go:embed widget/widget.js widget/widget.css
var widgetFS embed.FS

// WidgetPrefix is where the chat widget's files are served.
const WidgetPrefix = "/assistant/"

// Widget serves the chat widget a shop's pages include: GET
// /assistant/widget.js and /assistant/widget.css (see widget.js for the
// attributes its script tag takes). Anything else under the prefix is 404.
func Widget() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, WidgetPrefix)
		var ctype string
		switch name {
		case "widget.js":
			ctype = "text/javascript; charset=utf-8"
		case "widget.css":
			ctype = "text/css; charset=utf-8"
		default:
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		b, err := widgetFS.ReadFile("widget/" + name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		if r.Method == http.MethodGet {
			_, _ = w.Write(b)
		}
	})
}
