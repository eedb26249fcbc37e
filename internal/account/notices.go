package account

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/notify"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// NotificationSource is where the notifier gets the notices of sign-ins:
// login.unrecognized after a successful sign-in from a device or country
// the account had not used ("was this you?"), login.step_up_failed after
// a failed second factor. Each says which event to label with the
// customer's answer: legit joins the sign-in to the account's history,
// account_takeover marks its device and network as the attacker's.
func NotificationSource() notify.Source {
	return notify.Source{
		Kind: risk.EventLogin,
		Types: []notify.TypeInfo{
			{Name: client.NotificationLoginUnrecognized, Description: "a successful sign-in from a device or country the account had not used " +
				"(or, without device ids, a network): ask the customer whether it was them"},
			{Name: client.NotificationLoginStepUpFailed, Description: "a sign-in failed the step-up (outcome mfa_failed): " +
				"if the shop checks the password first, someone else knows it"},
		},
		Notices: loginNotices,
	}
}

// loginNotices returns the notices a stored login or session check warrants.
func loginNotices(ev *storage.Event) ([]notify.Notice, error) {
	var env Env
	if err := json.Unmarshal(ev.Env, &env); err != nil {
		return nil, fmt.Errorf("account: stored login environment: %w", err)
	}
	if env.UserID == "" {
		return nil, nil
	}
	hour := ev.OccurredAt.UTC().Truncate(time.Hour).Unix()
	switch env.Outcome {
	case OutcomeSuccess:
		sig := env.Signals
		if sig == nil {
			return nil, nil
		}
		var news []string
		if sig.NewDeviceForUser {
			news = append(news, "device")
		}
		if sig.NewCountryForUser {
			news = append(news, "country")
		}
		if sig.NewNetworkForUser {
			news = append(news, "network")
		}
		if !sig.NewDeviceForUser && !sig.NewCountryForUser && (env.DeviceID != "" || !sig.NewNetworkForUser) {
			return nil, nil
		}
		return []notify.Notice{{Type: client.NotificationLoginUnrecognized, Data: loginNotice(ev, &env, news),
			Dedupe: fmt.Sprintf("%s|%s|%s|%d", env.UserID, env.DeviceID, env.IPCountry, hour)}}, nil
	case OutcomeMFAFailed:
		return []notify.Notice{{Type: client.NotificationLoginStepUpFailed, Data: loginNotice(ev, &env, nil),
			Dedupe: fmt.Sprintf("%s|%d", env.UserID, hour)}}, nil
	}
	return nil, nil
}

func loginNotice(ev *storage.Event, env *Env, news []string) client.LoginNotice {
	return client.LoginNotice{EventID: ev.ID, ExternalID: ev.ExternalID, UserID: env.UserID, OccurredAt: ev.OccurredAt.UTC(),
		IP: env.IP, Country: env.IPCountry, City: env.IPCity, ASN: env.IPASN, DeviceID: env.DeviceID,
		Browser: env.ClientBrowser, OS: env.ClientOS, New: news,
		Action: client.Action(ev.Assessment.Action), Score: ev.Assessment.Score}
}
