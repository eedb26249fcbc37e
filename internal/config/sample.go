package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Sample returns a commented YAML configuration file that sets every key
// to its default. Loading it yields exactly Default().
func Sample() string {
	var b strings.Builder
	b.WriteString(`# shopguard configuration: every key, at its default.
#
# Settings are layered: defaults < this file < environment < command-line flags.
# Each key has an environment variable: SHOPGUARD_ followed by the key in upper
# case with dots replaced by underscores, e.g. SHOPGUARD_SERVER_ADDR or
# SHOPGUARD_DECISIONS_THRESHOLDS_LOGIN_BLOCK. Durations use Go syntax: 5s, 1m30s, 2h.
# Unknown keys are errors.
`)
	writeYAML(&b, Default(), true)
	return b.String()
}

// YAML returns c as a YAML document in the layout of Sample, without the
// comments: the effective configuration, e.g. for `config check` to print.
// Only event kinds in risk.EventKinds appear under decisions.thresholds.
func (c Config) YAML() string {
	var b strings.Builder
	writeYAML(&b, c, false)
	return b.String()
}

// writeYAML writes every key of c as nested YAML, in the order of fields.
func writeYAML(b *strings.Builder, c Config, comments bool) {
	docs := sectionDocs()
	var prev []string
	for _, f := range fields() {
		parts := strings.Split(f.key, ".")
		common := 0
		for common < len(prev) && common < len(parts)-1 && prev[common] == parts[common] {
			common++
		}
		for i := common; i < len(parts)-1; i++ {
			if i == 0 && comments {
				b.WriteString("\n")
			}
			if comments {
				writeComment(b, i, docs[strings.Join(parts[:i+1], ".")])
			}
			fmt.Fprintf(b, "%s%s:\n", indent(i), parts[i])
		}
		depth := len(parts) - 1
		if comments {
			writeComment(b, depth, f.doc)
		}
		fmt.Fprintf(b, "%s%s: %s\n", indent(depth), parts[depth], formatValue(f.get(&c)))
		prev = parts
	}
}

// writeComment writes doc as YAML comment lines at the given depth.
func writeComment(b *strings.Builder, depth int, doc string) {
	if doc == "" {
		return
	}
	for line := range strings.SplitSeq(doc, "\n") {
		fmt.Fprintf(b, "%s# %s\n", indent(depth), line)
	}
}

func indent(depth int) string { return strings.Repeat("  ", depth) }

// formatValue renders v as a YAML scalar that Load reads back as v.
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case time.Duration:
		return formatDuration(x)
	}
	return fmt.Sprint(v)
}

// formatDuration is time.Duration.String without zero trailing units:
// 5m rather than 5m0s, 2h rather than 2h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
