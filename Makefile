# Convenience targets; the README's two commands are all you need.
.PHONY: run serve test race vet staticcheck ci bench fuzz

run:
	go run ./cmd/shopguard demo

serve:
	go run ./cmd/shopguard serve

test:
	go test ./...

race:
	go test -race ./...

vet:
	go vet ./...

staticcheck:
	go run honnef.co/go/tools/cmd/staticcheck@v0.7.0 ./...

ci:
	.ci/run

# In-process benchmarks of the hot path (see bench/README.md for the HTTP harness).
bench:
	go test -run '^$$' -bench . -benchmem ./internal/engine ./internal/features ./internal/rules ./internal/fraud

FUZZTIME ?= 60s
fuzz:
	go test ./internal/api -run '^$$' -fuzz FuzzDecodeTransaction -fuzztime $(FUZZTIME)
	go test ./internal/rules -run '^$$' -fuzz FuzzCompile -fuzztime $(FUZZTIME)
	go test ./internal/rules -run '^$$' -fuzz FuzzNormalizeEntry -fuzztime $(FUZZTIME)
	go test ./internal/features -run '^$$' -fuzz FuzzRestore -fuzztime $(FUZZTIME)
	go test ./internal/features -run '^$$' -fuzz FuzzArena -fuzztime $(FUZZTIME)
	go test ./internal/config -run '^$$' -fuzz FuzzLoadFile -fuzztime $(FUZZTIME)
	go test ./internal/demo -run '^$$' -fuzz FuzzShopForms -fuzztime $(FUZZTIME)
	go test ./internal/demo -run '^$$' -fuzz FuzzReportMessageForm -fuzztime $(FUZZTIME)
	go test ./internal/dashboard -run '^$$' -fuzz FuzzDashboardInput -fuzztime $(FUZZTIME)
	go test ./internal/ml/gbdt -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)
	go test ./internal/fraud/offline -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	go test ./internal/account -run '^$$' -fuzz FuzzDecodeLogin -fuzztime $(FUZZTIME)
	go test ./client -run '^$$' -fuzz FuzzVerifyWebhook -fuzztime $(FUZZTIME)
	go test ./internal/authn -run '^$$' -fuzz FuzzVerifyToken -fuzztime $(FUZZTIME)
	go test ./internal/authn -run '^$$' -fuzz FuzzPasskeyResponses -fuzztime $(FUZZTIME)
	go test ./internal/authn -run '^$$' -fuzz FuzzParseEnrolment -fuzztime $(FUZZTIME)
	go test ./internal/phishing -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	go test ./internal/phishing -run '^$$' -fuzz FuzzParseEmail -fuzztime $(FUZZTIME)
	go test ./internal/phishing -run '^$$' -fuzz FuzzExtractLinks -fuzztime $(FUZZTIME)
	go test ./internal/phishing -run '^$$' -fuzz FuzzReadFeed -fuzztime $(FUZZTIME)
	go test ./internal/phishing -run '^$$' -fuzz FuzzExpressions -fuzztime $(FUZZTIME)
	go test ./internal/phishing -run '^$$' -fuzz FuzzPermutations -fuzztime $(FUZZTIME)
	go test ./internal/phishing -run '^$$' -fuzz FuzzReadLists -fuzztime $(FUZZTIME)
	go test ./internal/phishing -run '^$$' -fuzz FuzzReadObserved -fuzztime $(FUZZTIME)
	go test ./internal/phishing -run '^$$' -fuzz FuzzDecodeURLModel -fuzztime $(FUZZTIME)
	go test ./internal/ml/text -run '^$$' -fuzz FuzzDecodeModel -fuzztime $(FUZZTIME)
	go test ./internal/cli -run '^$$' -fuzz FuzzReadLabelledURLs -fuzztime $(FUZZTIME)
	go test ./internal/api -run '^$$' -fuzz FuzzDecodeCursor -fuzztime $(FUZZTIME)
	go test ./internal/api -run '^$$' -fuzz FuzzValidateProfile -fuzztime $(FUZZTIME)
	go test ./internal/api -run '^$$' -fuzz FuzzValidateReport -fuzztime $(FUZZTIME)
	go test ./internal/cli -run '^$$' -fuzz FuzzLoadSMS -fuzztime $(FUZZTIME)
	go test ./internal/storage/sqlite -run '^$$' -fuzz FuzzReadRecords -fuzztime $(FUZZTIME)
	go test ./internal/fraud -run '^$$' -fuzz FuzzDecodeFast -fuzztime $(FUZZTIME)
	go test ./internal/gateway/challenge -run '^$$' -fuzz FuzzOpen -fuzztime $(FUZZTIME)
	go test ./internal/gateway -run '^$$' -fuzz FuzzMismatch -fuzztime $(FUZZTIME)
	go test ./internal/gateway -run '^$$' -fuzz FuzzBodyFields -fuzztime $(FUZZTIME)
	go test ./internal/gateway -run '^$$' -fuzz FuzzHeaderAnomaly -fuzztime $(FUZZTIME)
	go test ./internal/botscore -run '^$$' -fuzz FuzzLoadModel -fuzztime $(FUZZTIME)
	go test ./internal/authn/keystroke -run '^$$' -fuzz FuzzDecodeTemplate -fuzztime $(FUZZTIME)
	go test ./internal/authn/keystroke/offline -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	go test ./internal/content -run '^$$' -fuzz '^FuzzAssess$$' -fuzztime $(FUZZTIME)
	go test ./internal/content -run '^$$' -fuzz '^FuzzNormalize$$' -fuzztime $(FUZZTIME)
	go test ./internal/content -run '^$$' -fuzz '^FuzzScan$$' -fuzztime $(FUZZTIME)
	go test ./internal/content -run '^$$' -fuzz '^FuzzBands$$' -fuzztime $(FUZZTIME)
	go test ./internal/api -run '^$$' -fuzz '^FuzzPerspectiveRequest$$' -fuzztime $(FUZZTIME)
	go test ./internal/ml/text -run '^$$' -fuzz '^FuzzDecodeEnsemble$$' -fuzztime $(FUZZTIME)
	go test ./internal/ml/text -run '^$$' -fuzz '^FuzzScoreModels$$' -fuzztime $(FUZZTIME)
	go test ./internal/gateway -run '^$$' -fuzz '^FuzzClientIP$$' -fuzztime $(FUZZTIME)
	go test ./internal/gateway/tlsprint -run '^$$' -fuzz '^FuzzParseClientHello$$' -fuzztime $(FUZZTIME)
	go test ./internal/gateway/tlsprint -run '^$$' -fuzz '^FuzzConnCapture$$' -fuzztime $(FUZZTIME)
	go test ./internal/gateway -run '^$$' -fuzz '^FuzzReadPolicy$$' -fuzztime $(FUZZTIME)
	go test ./internal/gateway -run '^$$' -fuzz '^FuzzAccountKey$$' -fuzztime $(FUZZTIME)
	go test ./internal/gateway/limit -run '^$$' -fuzz '^FuzzBucket$$' -fuzztime $(FUZZTIME)
	go test ./internal/gateway/limit -run '^$$' -fuzz '^FuzzLimiter$$' -fuzztime $(FUZZTIME)
