package content_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/ml/text"
	"github.com/shopguard/shopguard/internal/phishing"
)

// benchPosts are a genuine review, a spam listing with contact details,
// a payment request and links, and an abusive comment.
var benchPosts = []content.Post{
	{ID: "b1", CreatedAt: "2026-05-01T11:00:00Z", PostKind: content.KindReview, Rating: 4, TargetID: "sku-1", Title: "Good kettle, loud click",
		Text: "Boils a full litre in about three minutes and the lid closes firmly. The handle stays cool and the cable is long enough " +
			"for our kitchen island. Bought it to replace a ten year old one that cost 29.99 and so far it is quieter, apart from the " +
			"click when it switches off. Arrived in 2 days, well packed. Limescale filter is easy to take out and rinse. Would buy again.",
		Author: content.Author{UserID: "u1", CreatedAt: "2024-01-01T00:00:00Z", VerifiedPurchase: true, IP: "203.0.113.9", DeviceID: "d1"}},
	{ID: "b2", CreatedAt: "2026-05-01T11:00:00Z", PostKind: content.KindListing, TargetID: "lst-9", Title: "iPhone 15 Pro 256GB like new",
		Text: "Like new, no scratches, battery 98%. Text me on WhatsApp +44 7911 123456 or telegram @cheapphones for the best price, " +
			"pay by bank transfer or gift card to avoid the fees. More pictures: https://bit.ly/3xYz and https://n0rthwind.shop/listing/991 " +
			"Shipping worldwide within 24 hours, 100% original, limited time offer, click here to reserve.",
		Author: content.Author{UserID: "u2", IP: "198.51.100.7"}},
	{ID: "b3", CreatedAt: "2026-05-01T11:00:00Z", PostKind: content.KindComment, TargetID: "sku-2",
		Text:   "You people are idiots. Refund me today or I will burn your store down, watch your back.",
		Author: content.Author{UserID: "u3", IP: "192.0.2.1"}},
}

// BenchmarkAssess measures the full content assessment of a post without
// the feature-store round trip: text analysis (findings, links through
// the phishing check, the three text models, near-duplicate bands) and
// the environment with its four scores, from aggregates as the feature
// store returns them. The goal is 20,000 posts/s per core, i.e.
// at most 50 µs per post.
func BenchmarkAssess(b *testing.B) {
	texts := []string{"click here to win a free gift card", "great kettle boils fast", "you idiot", "arrived on time, works well"}
	labels := []bool{true, false, true, false}
	train := func(views ...text.Features) *content.TaskModel {
		var bl text.Blend
		for _, f := range views {
			bl.Views = append(bl.Views, text.View{Features: f, Config: text.TrainConfig{Epochs: 2}})
			bl.Weights = append(bl.Weights, 1)
		}
		e, err := text.TrainBlend(bl, texts, labels)
		if err != nil {
			b.Fatal(err)
		}
		return &content.TaskModel{Model: e, Version: "bench"}
	}
	// The three models as shopguard train content makes them: spam on
	// characters 2-5 and words 1-2, fake reviews the mean of words 1-2 and
	// characters 3-6, abuse as spam.
	withModels := content.NewAnalyzer(phishing.NewChecker(nil))
	withModels.SetModel(content.TaskSpam, train(text.Features{CharMin: 2, CharMax: 5, WordMin: 1, WordMax: 2, Bits: 20}), false)
	withModels.SetModel(content.TaskFakeReview, train(text.Features{WordMin: 1, WordMax: 2, Bits: 20}, text.Features{CharMin: 3, CharMax: 6, Bits: 20}), false)
	withModels.SetModel(content.TaskAbuse, train(text.Features{CharMin: 2, CharMax: 5, WordMin: 1, WordMax: 2, Bits: 20}), false)
	protected := phishing.ParseProtected([]string{"northwind.shop"})
	var aggs []features.Aggregates
	for i := range 64 {
		var ag features.Aggregates
		ag.Count[features.W1h], ag.Count[features.W24h], ag.Distinct[0][features.W24h] = 2, 3, 2
		ag.FirstSeen = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
		aggs = append(aggs, ag)
	}
	configs := []struct {
		name string
		a    *content.Analyzer
	}{{"rules_only", content.NewAnalyzer(phishing.NewChecker(nil))}, {"three_models", withModels}}
	for _, cfg := range configs {
		for i, p := range benchPosts {
			if err := p.Validate(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)); err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/%s_%dB", cfg.name, p.PostKind, len(p.Title)+len(p.Text)), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(p.Title) + len(p.Text)))
				var obs []features.Observation // reused, as the engine does
				for b.Loop() {
					q := benchPosts[i]
					cfg.a.Analyze("t1", &q, protected)
					obs = q.Observations("t1", obs[:0])
					_ = q.Env(aggs[:len(obs)], nil)
				}
			})
		}
	}
	// The three posts in turn on every core at once: posts/s per core
	// with the cores sharing caches and memory, as a busy server does.
	for _, cfg := range configs {
		b.Run(cfg.name+"/mix_parallel", func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				var obs []features.Observation
				for i := 0; pb.Next(); i++ {
					q := benchPosts[i%len(benchPosts)]
					cfg.a.Analyze("t1", &q, protected)
					obs = q.Observations("t1", obs[:0])
					_ = q.Env(aggs[:len(obs)], nil)
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds()/float64(runtime.GOMAXPROCS(0)), "posts/s/core")
		})
	}
}
