// Package reference holds the reference data shopguard ships: ISO currency
// and country codes, and permissively licensed lists such as throw-away
// e-mail domains (see data/*.LICENSE).
package reference

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// CurrencyExponent returns the number of minor-unit digits of the ISO 4217
// currency code (2 for EUR, 0 for JPY, 3 for KWD) and whether the code is known.
func CurrencyExponent(code string) (int, bool) {
	e, ok := currencyExponents[code]
	return e, ok
}

// CountryName returns the English name of the ISO 3166-1 alpha-2 code and
// whether the code is known. Codes are upper case.
func CountryName(code string) (string, bool) {
	if code == "XK" {
		// Not in ISO 3166-1, but the code card networks and banks use for Kosovo.
		return "Kosovo", true
	}
	n, ok := countryNames[code]
	return n, ok
}

//go:embed data/disposable-email-domains.json
var disposableJSON []byte

// DisposableDomainsListName is the name under which the shipped list of
// throw-away e-mail domains is available to every tenant's rules.
const DisposableDomainsListName = "disposable-email-domains"

// DisposableEmailDomains returns the shipped list of throw-away e-mail
// domains (npm disposable-email-domains-js 1.26.0, CC0), lower case.
func DisposableEmailDomains() []string {
	var out []string
	if err := json.Unmarshal(disposableJSON, &out); err != nil {
		// The file is embedded at build time and checked by a test.
		panic(fmt.Sprintf("reference: embedded disposable-email-domains.json: %v", err))
	}
	return out
}

//go:embed data/common-passwords.json
var commonPasswordsJSON []byte

// CommonPasswords returns the shipped list of common passwords, most
// common first (zxcvbn's password list, 49,233 entries, MIT; see
// data/common-passwords.LICENSE).
func CommonPasswords() []string {
	var out []string
	if err := json.Unmarshal(commonPasswordsJSON, &out); err != nil {
		// The file is embedded at build time and checked by a test.
		panic(fmt.Sprintf("reference: embedded common-passwords.json: %v", err))
	}
	return out
}

// LoadDomainList reads a replacement domain list from path: either a JSON
// array of strings or plain text with one domain per line ('#' comments allowed).
func LoadDomainList(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reference: read %s: %w", path, err)
	}
	if t := strings.TrimSpace(string(data)); strings.HasPrefix(t, "[") {
		var out []string
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, fmt.Errorf("reference: %s is not a JSON array of strings: %w", path, err)
		}
		return out, nil
	}
	var out []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.ToLower(line))
	}
	return out, sc.Err()
}
