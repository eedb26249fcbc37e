package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/phishing"
)

// lookalikesFlags are the lookalikes command's flags.
type lookalikesFlags struct {
	fuzzers    string
	tlds       string
	dictionary string
	scan       []string
	format     string
	json       bool
	max        int
}

func newLookalikes(env *Env) *cobra.Command {
	var f lookalikesFlags
	cmd := &cobra.Command{
		Use:   "lookalikes DOMAIN... [--fuzzers a,b] [--tlds FILE] [--dictionary FILE] [--scan FILE]... [--format auto|plain|zone|ct] [--json]",
		Short: "Typosquatting and lookalike domains of a shop's domain, or those found among observed domains",
		Long: `lookalikes makes the permutations of a domain that dnstwist's fuzzers make
(addition, bitsquatting, cyrillic, dictionary, homoglyph, hyphenation,
insertion, omission, plural, repetition, replacement, subdomain,
transposition, tld-swap, various, vowel-swap) and prints them, the fuzzer
that made each and its Unicode form, with a count per fuzzer. Nothing is
looked up: no DNS, no network.

With --scan it reads lists of domains seen elsewhere instead (certificate-
transparency exports such as crt.sh's JSON or CSV, DNS zone files, newly
registered domain feeds, plain lists of domains or URLs) and prints those
that imitate DOMAIN: one of its permutations, or a lookalike by
shopguard's own check (homoglyphs, typing slips, the brand in a subdomain
of another site), and why. Bad lines are counted and shown, not fatal.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("lookalikes needs a DOMAIN, e.g. shopguard lookalikes shopping-example.com")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := f.permuteOptions()
			if err != nil {
				return err
			}
			if len(f.scan) == 0 {
				if cmd.Flags().Changed("format") {
					return usageError{errors.New("--format is the format of the --scan files: give --scan FILE")}
				}
				return printPermutations(env, args, opts, f.json)
			}
			return scanObserved(env, cmd.InOrStdin(), args, opts, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.fuzzers, "fuzzers", "", "fuzzers to run, separated by commas (default all: "+strings.Join(phishing.FuzzerNames, ",")+")")
	fl.StringVar(&f.tlds, "tlds", "", "tld-swap's top-level domains, one a line (default: a built-in list of common and abused TLDs)")
	fl.StringVar(&f.dictionary, "dictionary", "", "dictionary's words, one a line (default: a built-in list of shop-phishing words)")
	fl.StringArrayVar(&f.scan, "scan", nil, "file of observed domains to scan (repeatable; - for standard input)")
	fl.StringVar(&f.format, "format", phishing.ObservedAuto, "format of the --scan files: "+strings.Join(phishing.ObservedFormats, ", "))
	fl.BoolVar(&f.json, "json", false, "print JSON")
	fl.IntVar(&f.max, "max", 0, fmt.Sprintf("most permutations of a domain (default %d)", phishing.DefaultMaxPermutations))
	return cmd
}

// permuteOptions reads the flags' fuzzers, files and bound.
func (f lookalikesFlags) permuteOptions() (phishing.PermuteOptions, error) {
	var opts phishing.PermuteOptions
	if f.fuzzers != "" {
		for _, s := range strings.Split(f.fuzzers, ",") {
			s = strings.ToLower(strings.TrimSpace(s))
			if !slices.Contains(phishing.FuzzerNames, s) {
				return opts, usageError{fmt.Errorf("--fuzzers: unknown fuzzer %q (known: %s)", s, strings.Join(phishing.FuzzerNames, ", "))}
			}
			if !slices.Contains(opts.Fuzzers, s) {
				opts.Fuzzers = append(opts.Fuzzers, s)
			}
		}
	}
	if f.max < 0 {
		return opts, usageError{fmt.Errorf("--max %d: must be positive", f.max)}
	}
	opts.Max = f.max
	if !slices.Contains(phishing.ObservedFormats, f.format) {
		return opts, usageError{fmt.Errorf("--format %q: use one of %s", f.format, strings.Join(phishing.ObservedFormats, ", "))}
	}
	var err error
	if f.tlds != "" {
		if opts.TLDs, err = readListFile(f.tlds, phishing.ReadTLDs); err != nil {
			return opts, fmt.Errorf("--tlds %s: %w", f.tlds, err)
		}
	}
	if f.dictionary != "" {
		if opts.Dictionary, err = readListFile(f.dictionary, phishing.ReadDictionary); err != nil {
			return opts, fmt.Errorf("--dictionary %s: %w", f.dictionary, err)
		}
	}
	return opts, nil
}

// readListFile reads a TLD or word list.
func readListFile(path string, read func(io.Reader) ([]string, error)) ([]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return read(fh)
}

// domainPermutations are a domain's permutations as printed.
type domainPermutations struct {
	Domain       string                 `json:"domain"`
	Permutations []phishing.Permutation `json:"permutations"`
	Counts       map[string]int         `json:"counts"`
	Total        int                    `json:"total"`
	// Truncated says why the list was cut ("" if it was not).
	Truncated string `json:"truncated,omitempty"`
}

// printPermutations prints each domain's permutations and the count per
// fuzzer.
func printPermutations(env *Env, domains []string, opts phishing.PermuteOptions, asJSON bool) error {
	var all []domainPermutations
	for _, d := range domains {
		perms, err := phishing.Permutations(d, opts)
		dp := domainPermutations{Domain: d, Permutations: perms, Counts: map[string]int{}, Total: len(perms)}
		switch {
		case errors.Is(err, phishing.ErrTruncated):
			dp.Truncated = err.Error()
			fmt.Fprintf(env.Stderr, "shopguard: %v (raise --max for more)\n", err)
		case err != nil:
			return usageError{err}
		}
		if dp.Permutations == nil {
			dp.Permutations = []phishing.Permutation{}
		}
		for _, p := range perms {
			dp.Counts[p.Fuzzer]++
		}
		all = append(all, dp)
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Lookalikes []domainPermutations `json:"lookalikes"`
		}{all})
	}
	for i, dp := range all {
		if i > 0 {
			fmt.Fprintln(env.Stdout)
		}
		fmt.Fprintf(env.Stdout, "%s: %d permutations\n\n", dp.Domain, dp.Total)
		var table strings.Builder
		tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FUZZER\tDOMAIN\tUNICODE")
		for _, p := range dp.Permutations {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Fuzzer, p.Domain, p.Unicode)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, line := range strings.SplitAfter(table.String(), "\n") { // no padding after an empty UNICODE
			fmt.Fprint(env.Stdout, strings.TrimRight(line, " \n")+strings.Repeat("\n", strings.Count(line, "\n")))
		}
		fmt.Fprintf(env.Stdout, "\nPer fuzzer (%s):\n", dp.Domain)
		tw = tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
		for _, name := range phishing.FuzzerNames {
			if opts.Fuzzers == nil || slices.Contains(opts.Fuzzers, name) {
				fmt.Fprintf(tw, "%s\t%d\t\n", name, dp.Counts[name])
			}
		}
		fmt.Fprintf(tw, "total\t%d\t\n", dp.Total)
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// scannedFile is what a --scan file held.
type scannedFile struct {
	File string `json:"file"`
	phishing.Observed
	Distinct int `json:"domains"`
}

// foundMatch is a match and the file it was first seen in.
type foundMatch struct {
	phishing.LookalikeMatch
	Source string `json:"source"`
}

// scanReport is the --scan output.
type scanReport struct {
	Protected    []string      `json:"protected"`
	Permutations int           `json:"permutations"`
	Truncated    []string      `json:"truncated,omitempty"`
	Files        []scannedFile `json:"files"`
	Scanned      int           `json:"scanned"`
	Matches      []foundMatch  `json:"matches"`
}

// scanObserved reads the --scan files and prints the observed domains
// that imitate the protected ones.
func scanObserved(env *Env, stdin io.Reader, protected []string, opts phishing.PermuteOptions, f lookalikesFlags) error {
	sc, err := phishing.NewLookalikeScanner(protected, opts)
	if err != nil {
		return usageError{err}
	}
	rep := scanReport{Protected: protected, Permutations: sc.Permutations(), Truncated: sc.Truncated(), Matches: []foundMatch{}}
	for _, d := range rep.Truncated {
		fmt.Fprintf(env.Stderr, "shopguard: the permutations of %s were cut at --max; the scan uses those made\n", d)
	}
	seen := map[string]bool{}
	for _, path := range f.scan {
		obs, err := readObservedFile(path, stdin, f.format)
		if err != nil {
			return fmt.Errorf("--scan %s: %w", path, err)
		}
		var fresh []string
		for _, d := range obs.Domains {
			if !seen[d] {
				seen[d] = true
				fresh = append(fresh, d)
			}
		}
		rep.Files = append(rep.Files, scannedFile{File: path, Observed: obs, Distinct: len(obs.Domains)})
		rep.Scanned += len(fresh)
		for _, m := range sc.Scan(fresh) {
			rep.Matches = append(rep.Matches, foundMatch{LookalikeMatch: m, Source: path})
		}
	}
	if f.json {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	out := env.Stdout
	fmt.Fprintf(out, "Protected: %s (%d permutations).\n", strings.Join(protected, ", "), rep.Permutations)
	for _, sf := range rep.Files {
		fmt.Fprintf(out, "%s (%s): %d records, %d names, %d distinct domains, %d bad.\n", sf.File, sf.Format, sf.Records, sf.Names, sf.Distinct, sf.Bad)
		for _, b := range sf.BadSamples {
			fmt.Fprintf(out, "    record %d: %s\n", b.Record, b.Reason)
		}
		if sf.Bad > len(sf.BadSamples) {
			fmt.Fprintf(out, "    and %d more bad\n", sf.Bad-len(sf.BadSamples))
		}
		if sf.Stopped != "" {
			fmt.Fprintf(out, "    stopped early: %s\n", sf.Stopped)
		}
	}
	fmt.Fprintf(out, "\n%d of %d distinct domains imitate %s:\n", len(rep.Matches), rep.Scanned, strings.Join(protected, ", "))
	for _, m := range rep.Matches {
		name := m.Domain
		if m.Unicode != "" {
			name = fmt.Sprintf("%s (%s)", m.Unicode, m.Domain)
		}
		fmt.Fprintf(out, "\n%s imitates %s [%s]\n", name, m.Brand, m.Source)
		for _, w := range m.Why {
			fmt.Fprintf(out, "    %s\n", w)
		}
	}
	return nil
}

// readObservedFile reads a --scan file ("-": standard input).
func readObservedFile(path string, stdin io.Reader, format string) (phishing.Observed, error) {
	if path == "-" {
		return phishing.ReadObserved(stdin, phishing.ReadOptions{Format: format})
	}
	fh, err := os.Open(path)
	if err != nil {
		return phishing.Observed{}, err
	}
	defer fh.Close()
	return phishing.ReadObserved(fh, phishing.ReadOptions{Format: format})
}
