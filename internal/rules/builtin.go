package rules

import "github.com/shopguard/shopguard/internal/reference"

// BuiltinLists returns the read-only lists shopguard ships, which every
// tenant's rules can use (e.g. in_list("disposable-email-domains", ...)).
func BuiltinLists() []ListEntries {
	return []ListEntries{{
		List: List{Name: reference.DisposableDomainsListName, Kind: ListEmailDomain, Effect: EffectNone,
			Description: "throw-away e-mail domains shipped with shopguard (disposable-email-domains-js, CC0)"},
		Entries: reference.DisposableEmailDomains(),
	}}
}
