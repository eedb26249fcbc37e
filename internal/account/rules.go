package account

import (
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
)

// defaultRules are the login rules a new tenant starts with. Blocks fall
// on what the attacker controls (an IP on one account, an IP or password
// tried across many accounts), never on the account itself: a flood on one
// account gets step-up challenges, so it cannot lock the real customer out.
func defaultRules() []rules.Rule {
	login := risk.EventLogin
	return []rules.Rule{
		{Name: "account_ip_brute_force", Kind: login, Action: risk.ActionBlock,
			Expression:  "features.account_ip.failures_1h >= 5",
			Description: "{{ features.account_ip.failures_1h }} failed logins on this account from this IP in an hour: this IP is blocked for this account only"},
		{Name: "account_brute_force", Kind: login, Score: 70,
			Expression:  "features.account.failures_1h >= 15",
			Description: "{{ features.account.failures_1h }} failed logins on this account in an hour from {{ features.account.ips_1h }} IPs: step-up instead of a lockout"},
		{Name: "ip_brute_force", Kind: login, Action: risk.ActionBlock,
			Expression:  "features.ip.failures_1h >= 50",
			Description: "{{ features.ip.failures_1h }} failed logins from this IP in an hour"},
		{Name: "credential_stuffing_ip", Kind: login, Action: risk.ActionBlock,
			Expression:  "features.ip.accounts_1h >= 10 && features.ip.failures_1h >= 10",
			Description: "{{ features.ip.accounts_1h }} accounts tried from this IP in an hour, {{ features.ip.failures_1h }} failed: credential stuffing"},
		{Name: "credential_stuffing_network", Kind: login, Score: 60,
			Expression:  "features.ip_prefix.accounts_1h >= 40 && features.ip_prefix.failures_1h >= 40",
			Description: "{{ features.ip_prefix.accounts_1h }} accounts tried from network {{ ip_prefix }} in an hour, {{ features.ip_prefix.failures_1h }} failed"},
		{Name: "unknown_accounts_from_ip", Kind: login, Score: 60,
			Expression:  "signals.unknown_accounts_ip_1h >= 5",
			Description: "{{ signals.unknown_accounts_ip_1h }} attempts on accounts that do not exist from this IP in an hour: a leaked list being tried"},
		{Name: "login_accounts_per_device", Kind: login, Score: 60,
			Expression:  "features.device.accounts_24h >= 5",
			Description: "{{ features.device.accounts_24h }} accounts tried from this device in 24h"},
		{Name: "password_spraying", Kind: login, Action: risk.ActionBlock,
			Expression:  "features.password.accounts_1h >= 10",
			Description: "the same password tried on {{ features.password.accounts_1h }} accounts in an hour: password spraying"},
		{Name: "unfamiliar_login", Kind: login, Action: risk.ActionChallenge,
			Expression:  "known_user && signals.login_risk >= 1 && !signals.device_remembered",
			Description: "this sign-in looks {{ round(10 ^ signals.login_risk) }} times likelier an attacker's than this customer's (login-risk model; unfamiliar: {{ signals.unfamiliar }}): step-up"},
		{Name: "new_device_and_network", Kind: login, Action: risk.ActionChallenge,
			Expression:  "known_user && signals.new_device_for_user && signals.new_network_for_user && !signals.device_remembered",
			Description: "a known customer from a device and a network never seen with this account: step-up"},
		{Name: "impossible_travel", Kind: login, Action: risk.ActionChallenge,
			Expression:  "known_user && signals.travel_km >= 500 && signals.travel_speed_kmh >= 1000",
			Description: "{{ signals.travel_km }} km from the last confirmed sign-in ({{ signals.travel_from }}) in {{ signals.travel_hours }} hours, faster than an airliner: step-up"},
		{Name: "dormant_account_returns", Kind: login, Action: risk.ActionChallenge,
			Expression:  "known_user && signals.dormant_days > 0 && outcome != \"session\" && !signals.device_remembered",
			Description: "first sign-in in {{ signals.dormant_days }} days: the account's history has expired, so nothing about this sign-in can be familiar (dormant accounts are a favourite takeover target): step-up"},
		{Name: "typing_rhythm_unfamiliar", Kind: login, Score: 30,
			Expression:  "known_user && signals.typing_distance >= 2.1",
			Description: "the password was typed unlike this customer types it (typing distance {{ signals.typing_distance }}; their own sign-ins are mostly below 2.1)"},
		{Name: "login_new_country", Kind: login, Score: 40,
			Expression:  "known_user && signals.new_country_for_user && !signals.device_remembered",
			Description: "first login of this account from {{ ip_country }}"},
		{Name: "distributed_stuffing_user_agent", Kind: login, Score: 60,
			Expression:  "features.user_agent.accounts_1h >= 50 && features.user_agent.failures_1h >= 50 && signals.shop_failure_rate_1h >= 2 * max(signals.shop_failure_rate_24h, signals.shop_failure_rate_hour_of_week)",
			Description: "{{ features.user_agent.accounts_1h }} accounts failed from this User-Agent in an hour while the shop's failure rate doubled ({{ signals.shop_failure_rate_1h }} vs {{ max(signals.shop_failure_rate_24h, signals.shop_failure_rate_hour_of_week) }} usually): distributed credential stuffing"},
		{Name: "distributed_stuffing_asn", Kind: login, Score: 60,
			Expression:  "features.asn.accounts_1h >= 50 && features.asn.failures_1h >= 50 && signals.shop_failure_rate_1h >= 2 * max(signals.shop_failure_rate_24h, signals.shop_failure_rate_hour_of_week)",
			Description: "{{ features.asn.accounts_1h }} accounts failed from network operator AS{{ ip_asn }} in an hour while the shop's failure rate doubled: distributed credential stuffing"},
		{Name: "distributed_stuffing_unknown_accounts", Kind: login, Action: risk.ActionChallenge,
			Expression:  "!known_user && signals.shop_unknown_accounts_1m >= 5 && signals.shop_unknown_accounts_1m >= 5 * signals.shop_unknown_accounts_per_minute_24h",
			Description: "{{ signals.shop_unknown_accounts_1m }} sign-ins on accounts that do not exist across the shop in the last minute, {{ signals.shop_unknown_accounts_per_minute_24h }} a minute usually: a leaked list tried from many addresses; step-up for unknown accounts"},
		{Name: "stuffing_wave_unfamiliar_device", Kind: login, Action: risk.ActionChallenge,
			Expression:  `known_user && (device_id == "" ? signals.new_network_for_user : signals.new_device_for_user) && signals.shop_unknown_accounts_1m >= 5 && signals.shop_unknown_accounts_1m >= 5 * signals.shop_unknown_accounts_per_minute_24h && !signals.device_remembered`,
			Description: "a sign-in from a device (or, without a device id, a network) this account never signed in from while a leaked list is being tried on the shop ({{ signals.shop_unknown_accounts_1m }} unknown accounts in the last minute): step-up"},
		{Name: "session_from_unknown_device_and_network", Kind: login, Action: risk.ActionBlock,
			Expression:  `outcome == "session" && signals.new_device_for_user && signals.new_network_for_user`,
			Description: "a signed-in session used from a device and a network this account never signed in from: a stolen session cookie; end the session"},
		{Name: "session_moved_device", Kind: login, Score: 70,
			Expression:  `outcome == "session" && (features.session.devices_24h >= 2 || features.session.browsers_24h >= 2)`,
			Description: "the same session used from {{ max(features.session.devices_24h, features.session.browsers_24h) }} devices or browsers: ask the customer to sign in again"},
		{Name: "compromising_source", Kind: login, Score: 70,
			Expression:  "features.ip.compromised_30d >= 1 || features.device.compromised_30d >= 1",
			Description: "this IP or device took over accounts before (account_takeover labels in 30 days)"},
	}
}
