package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"

	"github.com/shopguard/shopguard/internal/risk"
)

// Options says where Load reads settings from. The zero value loads the
// defaults only.
type Options struct {
	// File is the path of a YAML config file; "" means no file. A path
	// that does not exist is an error.
	File string
	// Env is the environment as os.Environ returns it ("NAME=value"
	// entries); nil means none. Only SHOPGUARD_* variables are read. A
	// variable set to the empty string sets its key to "" (it is not
	// treated as unset).
	Env []string
	// Flags is the parsed command line, or nil. Only flags the user set
	// (pflag.Flag.Changed) and that FlagKeys maps to a config key are used.
	Flags *pflag.FlagSet
	// FlagKeys maps a flag name to the config key it sets, e.g.
	// {"addr": "server.addr", "data": "storage.data_dir"}. Flags not in the
	// map (such as --config) are ignored; a map entry naming an unknown key
	// is a Problem.
	FlagKeys map[string]string
}

// Load returns the defaults overridden by the file, then by the
// environment, then by the flags, and validated. It reports every problem
// at once: unknown keys and variables, values of the wrong type and
// everything Validate rejects come back together as a Problems error
// (which matches ErrInvalid); the Config returned with it holds every value
// that could be applied and is for diagnostics only. A file that cannot be
// read or parsed is a wrapped I/O or parse error instead, with a zero
// Config.
func Load(opts Options) (Config, error) {
	l := newLoader()
	cfg := Default()
	var ps Problems

	if opts.File != "" {
		flat, err := readFile(opts.File)
		if err != nil {
			return Config{}, err
		}
		ps = append(ps, l.apply(&cfg, flat, func(string) string { return "file " + opts.File })...)
	}

	flat, unknownEnv, err := l.readEnv(opts.Env)
	if err != nil {
		return Config{}, err
	}
	for _, name := range unknownEnv {
		ps = append(ps, Problem{Key: name, Message: l.unknownEnvMessage(name)})
	}
	ps = append(ps, l.apply(&cfg, flat, func(key string) string { return "environment variable " + EnvName(key) })...)

	for _, name := range slices.Sorted(maps.Keys(opts.FlagKeys)) {
		if key := opts.FlagKeys[name]; !l.known(key) {
			ps = append(ps, Problem{Key: key, Message: fmt.Sprintf("flag --%s maps to an unknown config key", name)})
		}
	}
	if opts.Flags != nil {
		flat, flagOf, err := l.readFlags(opts.Flags, opts.FlagKeys)
		if err != nil {
			return Config{}, err
		}
		ps = append(ps, l.apply(&cfg, flat, func(key string) string { return "flag --" + flagOf[key] })...)
	}

	for _, p := range cfg.problems() {
		if src := l.sourceOf(p.Key); src != "" {
			p.Message += " [from " + src + "]"
		}
		ps = append(ps, p)
	}
	return cfg, ps.err()
}

// loader holds the key table for one Load call and remembers where each
// applied value came from.
type loader struct {
	fields   map[string]field
	keys     []string        // sorted
	sections map[string]bool // every proper prefix of a key, e.g. "server"
	envKeys  map[string]string
	origin   map[string]string // key -> source of its current value
}

func newLoader() *loader {
	l := &loader{
		fields:   make(map[string]field),
		sections: make(map[string]bool),
		envKeys:  make(map[string]string),
		origin:   make(map[string]string),
	}
	for _, f := range fields() {
		l.fields[f.key] = f
		l.keys = append(l.keys, f.key)
		l.envKeys[EnvName(f.key)] = f.key
		for i, c := range f.key {
			if c == '.' {
				l.sections[f.key[:i]] = true
			}
		}
	}
	slices.Sort(l.keys)
	return l
}

func (l *loader) known(key string) bool {
	_, ok := l.fields[key]
	return ok
}

// readFile parses the YAML file at path into a flat map of dotted keys.
func readFile(path string) (map[string]any, error) {
	k := koanf.New(".")
	if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("config: reading config file: %w", err)
		}
		return nil, fmt.Errorf("config: parsing config file %s: %w", path, err)
	}
	return k.All(), nil
}

// readEnv maps the SHOPGUARD_* variables in environ to config keys by
// exact name (keys contain underscores, so names are never split). It
// returns the values by key and the names of unknown variables, sorted.
func (l *loader) readEnv(environ []string) (map[string]any, []string, error) {
	var unknown []string
	k := koanf.New(".")
	err := k.Load(env.Provider(".", env.Opt{
		Prefix: EnvPrefix,
		EnvironFunc: func() []string {
			// The provider splits on "=" and needs one in every entry.
			return slices.DeleteFunc(slices.Clone(environ), func(kv string) bool {
				return !strings.Contains(kv, "=")
			})
		},
		TransformFunc: func(name, value string) (string, any) {
			if name == EnvConfigFile || name == EnvRequireBrowser || name == EnvScreenshots || strings.HasPrefix(name, EnvTestPrefix) {
				return "", nil
			}
			key, ok := l.envKeys[name]
			if !ok {
				if !slices.Contains(unknown, name) {
					unknown = append(unknown, name)
				}
				return "", nil
			}
			return key, value
		},
	}), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("config: reading environment: %w", err)
	}
	slices.Sort(unknown)
	return k.All(), unknown, nil
}

// readFlags returns the values of the flags the user set that flagKeys maps
// to known config keys, by key, and the flag name that set each key.
func (l *loader) readFlags(fset *pflag.FlagSet, flagKeys map[string]string) (map[string]any, map[string]string, error) {
	flagOf := make(map[string]string)
	k := koanf.New(".")
	// With a nil koanf instance posflag skips every flag that was not
	// changed on the command line, so flag defaults never override.
	err := k.Load(posflag.ProviderWithFlag(fset, ".", nil, func(f *pflag.Flag) (string, any) {
		key, ok := flagKeys[f.Name]
		if !ok || !l.known(key) {
			return "", nil
		}
		if f.Changed {
			flagOf[key] = f.Name
		}
		return key, posflag.FlagVal(fset, f)
	}), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("config: reading flags: %w", err)
	}
	return k.All(), flagOf, nil
}

// apply converts and sets every value in flat (dotted key -> raw value),
// returning a Problem for each unknown key and each value of the wrong
// type. source names where a key's value came from.
func (l *loader) apply(cfg *Config, flat map[string]any, source func(key string) string) Problems {
	var ps Problems
	for _, key := range slices.Sorted(maps.Keys(flat)) {
		v := flat[key]
		src := " [from " + source(key) + "]"
		f, ok := l.fields[key]
		switch {
		case key == "":
			// YAML allows an empty mapping key (`"": 1`); name it visibly.
			ps = append(ps, Problem{Key: `""`, Message: "empty key; every key needs a name" + src})
		case ok:
			val, err := convert(f.kind, v)
			if err != nil {
				ps = append(ps, Problem{Key: key, Message: err.Error() + src})
				continue
			}
			f.set(cfg, val)
			l.origin[key] = source(key)
		case l.sections[key]:
			// An empty section ("server:" or "login: {}") changes nothing.
			if m, isMap := v.(map[string]any); v == nil || (isMap && len(m) == 0) {
				continue
			}
			ps = append(ps, Problem{Key: key, Message: fmt.Sprintf("is a section, not a value; expected a mapping of keys such as %s, got %s%s",
				l.firstUnder(key), describe(v), src)})
		default:
			ps = append(ps, Problem{Key: key, Message: l.unknownKeyMessage(key) + src})
		}
	}
	return ps
}

// firstUnder returns the first known key inside section.
func (l *loader) firstUnder(section string) string {
	for _, k := range l.keys {
		if strings.HasPrefix(k, section+".") {
			return k
		}
	}
	return section
}

// unknownKeyMessage explains an unknown dotted key, suggesting the closest
// known key when one is plausibly meant.
func (l *loader) unknownKeyMessage(key string) string {
	for i := len(key) - 1; i > 0; i-- {
		if key[i] == '.' && l.known(key[:i]) {
			return fmt.Sprintf("unknown key: %s is a value, not a section", key[:i])
		}
	}
	if rest, ok := strings.CutPrefix(key, thresholdsKey+"."); ok {
		kind, _, _ := strings.Cut(rest, ".")
		if _, err := risk.ParseEventKind(kind); err != nil {
			msg := fmt.Sprintf("unknown key: %q is not an event kind; known kinds: %s", kind, eventKindList())
			names := make([]string, len(risk.EventKinds))
			for i, k := range risk.EventKinds {
				names[i] = string(k)
			}
			if s := closest(kind, names, max(2, len(kind)/3)); s != "" {
				msg += fmt.Sprintf("; did you mean %s.%s?", thresholdsKey, s)
			}
			return msg
		}
	}
	last := key[strings.LastIndex(key, ".")+1:]
	if s := closest(key, l.keys, max(2, len(last)*2/3)); s != "" {
		return fmt.Sprintf("unknown key; did you mean %s?", s)
	}
	return "unknown key; the sample configuration lists every known key"
}

// unknownEnvMessage explains an unknown SHOPGUARD_* variable.
func (l *loader) unknownEnvMessage(name string) string {
	rest := strings.ToUpper(strings.TrimPrefix(name, EnvPrefix))
	names := make([]string, 0, len(l.envKeys))
	for n := range l.envKeys {
		names = append(names, strings.TrimPrefix(n, EnvPrefix))
	}
	slices.Sort(names)
	msg := "unknown environment variable"
	if s := closest(rest, names, max(2, len(rest)/3)); s != "" {
		msg += fmt.Sprintf("; did you mean %s%s?", EnvPrefix, s)
	}
	return msg + fmt.Sprintf(" (besides config keys only %s, %s, %s and %s* are allowed)", EnvConfigFile, EnvRequireBrowser, EnvScreenshots, EnvTestPrefix)
}

// sourceOf returns where the value of key came from, or "" for a default.
// For a section (e.g. decisions.thresholds.login) it lists the sources of
// the keys inside it.
func (l *loader) sourceOf(key string) string {
	if src, ok := l.origin[key]; ok {
		return src
	}
	var srcs []string
	for k, src := range l.origin {
		if strings.HasPrefix(k, key+".") && !slices.Contains(srcs, src) {
			srcs = append(srcs, src)
		}
	}
	slices.Sort(srcs)
	return strings.Join(srcs, ", ")
}
