package account

import "github.com/shopguard/shopguard/internal/engine"

// AppendJSON appends env as JSON to b and returns the extended buffer: byte
// for byte what encoding/json's Marshal writes for env (a test holds them
// equal), nested Features, Entity and Signals as objects, so a stored login
// environment stays readable and decodes with json.Unmarshal into NewEnv().
// A nil nested part is written as null, as encoding/json does; a non-finite
// float, which encoding/json refuses, is written as 0. It uses no
// reflection: the engine stores every decision's environment
// (engine.JSONAppender), so this is on a login's hot path.
//
// A field added to Env, Features, Entity or Signals must be added here too
// (TestAppendJSONCoversEveryField fails until it is). The receiver is a
// value so that *Env keeps only value-receiver methods: rules then run on
// one copy of the struct, without an allocation per field they read.
func (env Env) AppendJSON(b []byte) []byte {
	w := engine.JSONWriter{B: b}
	w.Open()
	w.Str("id", env.ID, false)
	w.Str("outcome", env.Outcome, false)
	w.Str("user_id", env.UserID, true)
	w.Bool("known_user", env.KnownUser, true)
	w.Str("ip", env.IP, false)
	w.Str("ip_prefix", env.IPPrefix, false)
	w.Str("ip_country", env.IPCountry, true)
	w.Str("ip_city", env.IPCity, true)
	w.Int("ip_asn", env.IPASN, true)
	w.Str("device_id", env.DeviceID, true)
	w.Str("user_agent", env.UserAgent, true)
	w.Int("hour_utc", int64(env.HourUTC), false)
	w.Bool("password_prefix_given", env.PasswordSet, true)
	w.Str("client_os", env.ClientOS, true)
	w.Str("client_browser", env.ClientBrowser, true)

	if f := env.Features; f == nil {
		w.Null("features")
	} else {
		w.Object("features")
		f.Account.appendJSON(&w, "account")
		f.IP.appendJSON(&w, "ip")
		f.IPPrefix.appendJSON(&w, "ip_prefix")
		f.Device.appendJSON(&w, "device")
		f.AccountIP.appendJSON(&w, "account_ip")
		f.Password.appendJSON(&w, "password")
		f.UserAgent.appendJSON(&w, "user_agent")
		f.ASN.appendJSON(&w, "asn")
		f.Shop.appendJSON(&w, "shop")
		f.Session.appendJSON(&w, "session")
		w.Close()
	}

	if s := env.Signals; s == nil {
		w.Null("signals")
	} else {
		w.Object("signals")
		w.Bool("new_device_for_user", s.NewDeviceForUser, true)
		w.Bool("new_ip_for_user", s.NewIPForUser, true)
		w.Bool("new_network_for_user", s.NewNetworkForUser, true)
		w.Bool("new_country_for_user", s.NewCountryForUser, true)
		w.Int("unknown_accounts_ip_1h", s.UnknownAccountsIP1h, true)
		w.Float("failure_rate_ip_1h", s.FailureRateIP1h, true)
		w.Float("shop_failure_rate_1h", s.ShopFailureRate1h, true)
		w.Float("shop_failure_rate_24h", s.ShopFailureRate24h, true)
		w.Float("shop_failure_rate_hour_of_week", s.ShopFailureRateHourOfWeek, true)
		w.Int("shop_unknown_accounts_1m", s.ShopUnknownAccounts1m, true)
		w.Float("shop_unknown_accounts_per_minute_24h", s.ShopUnknownAccountsPerMinute24h, true)
		w.Float("travel_km", s.TravelKM, true)
		w.Float("travel_hours", s.TravelHours, true)
		w.Float("travel_speed_kmh", s.TravelSpeedKMH, true)
		w.Str("travel_from", s.TravelFrom, true)
		w.Float("dormant_days", s.DormantDays, true)
		w.Float("typing_distance", s.TypingDistance, true)
		w.Bool("device_remembered", s.DeviceRemembered, true)
		w.Float("login_risk", s.LoginRisk, true)
		w.Str("unfamiliar", s.Unfamiliar, true)
		w.Close()
	}
	w.Close()
	return w.B
}

// appendJSON writes the field k of the open object with e as its value,
// as encoding/json writes it (null for a nil e).
func (e *Entity) appendJSON(w *engine.JSONWriter, k string) {
	if e == nil {
		w.Null(k)
		return
	}
	w.Object(k)
	w.Bool("present", e.Present, true)
	w.Bool("new", e.New, true)
	w.Int("attempts_1m", e.Attempts1m, true)
	w.Int("attempts_1h", e.Attempts1h, true)
	w.Int("attempts_24h", e.Attempts24h, true)
	w.Int("failures_1m", e.Failures1m, true)
	w.Int("failures_1h", e.Failures1h, true)
	w.Int("failures_24h", e.Failures24h, true)
	w.Int("accounts_1h", e.Accounts1h, true)
	w.Int("accounts_24h", e.Accounts24h, true)
	w.Int("ips_1h", e.IPs1h, true)
	w.Int("ips_24h", e.IPs24h, true)
	w.Int("devices_1h", e.Devices1h, true)
	w.Int("devices_24h", e.Devices24h, true)
	w.Int("networks_24h", e.Networks24h, true)
	w.Int("countries_24h", e.Countries24h, true)
	w.Int("browsers_24h", e.Browsers24h, true)
	w.Int("compromised_30d", e.Compromised30d, true)
	w.Close()
}
