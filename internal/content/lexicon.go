package content

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// The lexicon of the text scanners, written for this project (no list is
// copied from elsewhere): word classes, single words that are findings by
// themselves, and phrases. It is English only and deliberately compact.
//
// It holds insults, profanity and threats but no slurs: words that demean
// people for who they are need a curated list of their own, with review by
// people affected, and are not guessed at here. Abuse is matched on whole
// words (so "Scunthorpe", "assess", "class" and "shiitake" stay clean);
// Scan folds leetspeak, masking asterisks and stretched letters before it
// looks a word up.

// classDefs names sets of words that phrases and Scan's own logic refer
// to, one "name: words" a line. A class is written @name in a phrase.
const classDefs = `
you: you u ya ye ur your you're youre yourself yall y'all
exclaim: what such bunch
person: seller sellers vendor vendors owner owners staff manager managers support agent agents rep reps guy guys dude courier driver drivers admin admins clerk cashier company boss ceo he she they he's she's they're hes shes theyre seller's owner's
filler: are r is am was were a an so such total complete absolute utter real fucking fking freaking effing bloody big little stupid dumb fat lazy ugly useless lying pathetic damn just really of being all one bunch
proof: proof proofed proofing
self: i i'm im me myself i've ive
subj: i i'll ill i'm im i'd ima imma i'ma we we'll we're someone somebody gonna
mod: will would could should shall am are going gonna gon gunna wanna want to really fucking fking literally personally just come and then also go gotta must might may can definitely actually gladly totally seriously absolutely first
harm: kill murder shoot stab strangle hurt beat punch slap choke hunt end cut gut rape attack smack kick skin torture bury
obj: you u ya ye yourself urself yall y'all him her
wreck: kill burn smash break torch bomb firebomb shoot stab cut slash wreck trash
thing: store shop house home car face family kids children wife husband legs leg neck head teeth jaw bones arms windows business warehouse office place life dog cat tires tyres
place: store shop house home warehouse office place business building
end: or pal buddy mate mister seller you u man bro dude lol
purchase: buy buying bought purchase purchasing purchased miss missing pass passing skip skipping getting get try trying own owning
payctx: pay paying payment payments accept accepts accepting only via
payafter: only payment payments accepted preferred
crypto: bitcoin bitcoins btc usdt tether eth ethereum crypto cryptocurrency litecoin ltc monero xmr usdc bnb doge dogecoin trx tron
gift: steam itunes apple amazon ebay vanilla razer walmart sephora psn xbox playstation netflix visa play
card: card cards voucher vouchers code codes
feemid: the on platform site app marketplace ebay etsy amazon paypal their these those any all paying
money: earn earning make making money income cash profit profits opportunity opportunities job jobs hiring business
period: day week hour month daily weekly hourly monthly hr wk
prep: on via at through thru over in
meus: me us
my: my our
msgafter: me us only id number no num nr handle username user acc
usage: calls call video videos chat chats app apps messages message notifications groups group status backup backups works runs
strongverb: dm pm hmu add message msg text contact reach ping
msgname: whatsapp whatsap watsapp watsap telegram telega tg wechat weixin kik snapchat snap skype discord line viber signal instagram insta ig threema messenger
telegram: telegram telega tg
numword: zero oh o one two three four five six seven eight nine nought
mult: double triple
unit: mm cm km m ml l kg g mg lb lbs oz w kw v mah hz khz mhz ghz gb tb mb kb inch inches in ft feet pcs pc pieces pack packs percent x times hours hrs minutes mins seconds days weeks months years yrs rpm dpi mp fps calories kcal cal sq
currency: usd eur gbp jpy inr rub cad aud chf dollars dollar euros euro pounds pound bucks rs yen rupees cents
nophone: order orders order# no nr ref reference invoice tracking track item sku model part serial sn isbn ean upc asin imei ticket case confirmation receipt transaction txn parcel shipment awb barcode code id batch lot size sizes version ver firmware build patent account acct
tld: com net org co uk de fr io me ru info biz edu gov us ca au in nl es it pl br jp cn ch se no eu online site store shop xyz app email mail
provider: gmail googlemail yahoo hotmail outlook live msn aol icloud protonmail proton gmx yandex mail zoho qq 163 mailru
msgweak: tg snap line signal insta ig messenger
phonectx: call calling phone tel telephone number num mobile cell whatsapp text txt sms contact reach ring me at on viber signal telegram wechat line
localstop: it this that them him her me us you one look looked looking available sold bought buy found got get cheaper cheap price priced arrived stop stopped here there home work is was are be and or but only shop shopping listed selling sells sale store find
`

// numberWordDigits gives the digit each spelled-out digit stands for, in
// the order of the numword class above.
var numberWordDigits = [...]byte{'0', '0', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0'}

// wordDefs are single words that are findings by themselves, one
// "code mode: words" a line. Mode always reports every word; targeted
// only when it is aimed at someone ("you idiot", "idiot seller");
// targetedadj likewise but not by "what a" ("what a stupid lid");
// youonly only when aimed at "you" ("support is useless" is a complaint,
// "you're useless" an insult); upgrade reports profanity, or an insult
// when aimed at someone ("you ass").
const wordDefs = `
profanity always: fuck fucks fucked fucker fuckers fucking fuckin fuckn fking fkn fck fcking fcked fuk fuking fukin fuq phuck phucking motherfucker motherfuckers motherfucking mofo fuckface fuckwit clusterfuck
profanity always: shit shits shitty shitting shitted shite bullshit bullshitting horseshit apeshit batshit shitshow
profanity upgrade: asshole assholes arsehole arseholes
profanity upgrade: ass arse asses
profanity upgrade: bitch bitches bitching bitchy
profanity upgrade: cunt cunts
profanity upgrade: twat twats
profanity upgrade: wanker wankers wank
profanity upgrade: bastard bastards
profanity always: bollocks
profanity always: goddamn goddamnit goddammit
profanity always: cocksucker cocksuckers
profanity always: stfu gtfo
insult always: dickhead dickheads
insult always: shithead shitheads dipshit dipshits
insult always: scumbag scumbags lowlife lowlifes dirtbag dirtbags
insult always: douchebag douchebags
insult always: jackass jackasses dumbass dumbasses
insult always: moron morons moronic imbecile imbeciles cretin cretins halfwit halfwits dimwit dimwits nitwit nitwits numbskull numbskulls dunce
insult targeted: idiot idiots idiotic
insult targeted: loser losers
insult targeted: fool fools clown clowns bozo bozos
insult targeted: scum pig pigs
insult targeted: dick dicks prick pricks douche
insult targetedadj: stupid dumb
insult youonly: pathetic useless worthless ugly
threat always: kys
spam always: casino casinos viagra cialis
`

// phraseDefs are phrases, one "code ; detail ; pattern [; condition]" a
// line. A pattern is words separated by spaces; each is alternatives
// separated by "|", a class (@name, which may be among the alternatives),
// "#" (a number), "$#" (a sum of money) or "*N" / "*N@class" (up to N
// words, of the class if one is given); a trailing "?" makes it optional.
// The first word may be neither optional nor a gap. A phrase never spans
// the end of a sentence. Conditions are checked after a match: end (the
// phrase ends its clause), nopurchase (its sentence speaks of no
// purchase), payctx (a payment word is near), paypal (PayPal or a
// payment word is near), msg and msgstrong (a messenger named in a way
// that asks to be contacted there; msgstrong for names that are also
// ordinary words), start (the phrase starts its sentence or follows a
// subject of @subj).
const phraseDefs = `
threat ; threat of violence ; @subj *3@mod @harm @obj
threat ; threat of violence ; @subj *3@mod @wreck your|ur|ya @thing
threat ; threat of violence ; @subj *3@mod burn|torch|bomb|firebomb down? your|ur|the|this|that @place down?
threat ; threat of violence ; @subj *3@mod find|track|hunt you|u down? and|then kill|hurt|stab|shoot you|u
threat ; threat of violence ; @subj *3@mod find|track|hunt you|u down? ; end
threat ; threat of violence ; burn|torch|firebomb your|ur @place down? ; start
threat ; telling someone to kill themselves ; kill|shoot|hang yourself|urself|yoself
threat ; threat to find where someone lives ; know|find|found|finding|tracked|track where|whr you|u|ya live|stay|work|sleep
threat ; threat "watch your back" ; watch your|ur back ; end
threat ; threat "you will regret it" ; you|u will|shall|gonna regret this|it|that ; nopurchase
threat ; threat "you will regret it" ; you'll|youll|ull regret this|it|that ; nopurchase
threat ; threat "you will pay for this" ; you'll|youll|ull pay for this|that ; end
threat ; threat "you will pay for this" ; you|u will pay for this|that ; end
threat ; threat "you're dead" ; you're|youre|ur dead ; end
threat ; threat "you're dead" ; you|u are|r dead ; end
threat ; threat "you're dead" ; you're|youre|ur a? dead man|meat
threat ; threat of violence ; @subj *2@mod coming for you|u ; end
threat ; wishing someone dead ; hope|hoping|wish you|u|ya die|dies|rot|burn
threat ; wishing someone dead ; go die|rot ; end
threat ; wishing someone dead ; drop dead ; end
threat ; threat of violence ; beat|kick|knock the shit|crap|hell|fuck|living daylights? out of you|u|ya
threat ; threat of violence ; beat|kick you|u|ya up
threat ; threat of violence ; break|smash your|ur legs|neck|face|arms|jaw|teeth|bones|skull
threat ; threat "or else" ; or else ; end
insult ; insult "fuck you" ; fuck|fck|fuk you|u|off|yourself
insult ; insult "screw you" ; screw you|u ; end
insult ; insult "piss off" ; piss off
insult ; insult "go to hell" ; go to hell ; end
insult ; insult "son of a bitch" ; son of a bitch
insult ; insult "piece of shit" ; you|ur|you're|youre piece of shit|crap
messenger ; WhatsApp ; whatsapp|whatsap|watsapp|watsap ; msg
messenger ; WhatsApp ; whats|what's|wats app ; msg
messenger ; Telegram ; telegram|telega ; msg
messenger ; Telegram ; tg ; msgstrong
messenger ; WeChat ; wechat|weixin ; msg
messenger ; WeChat ; we chat ; msgstrong
messenger ; Kik ; kik ; msg
messenger ; Snapchat ; snapchat ; msg
messenger ; Snapchat ; snap ; msgstrong
messenger ; Skype ; skype ; msg
messenger ; Discord ; discord ; msg
messenger ; Line ; line ; msgstrong
messenger ; Viber ; viber ; msg
messenger ; Threema ; threema ; msg
messenger ; Signal ; signal ; msgstrong
messenger ; Instagram ; instagram|insta|ig ; msgstrong
messenger ; Messenger ; messenger ; msgstrong
messenger ; asks to be texted ; text|txt|sms|imessage me|us
messenger ; asks to be contacted off the shop ; contact|reach|email|call|text|message|msg|dm|pm|write me|us directly|outside|privately|personally|offline
messenger ; asks to be contacted off the shop ; talk|chat|deal|trade|continue|move outside|off the|this? platform|site|app|marketplace
payment ; bank transfer ; bank|wire|wired transfer|transfers|deposit
payment ; bank transfer ; bank wire
payment ; bank transfer ; wire me|us? the? money|payment|funds|cash
payment ; Western Union ; western union
payment ; MoneyGram ; moneygram
payment ; MoneyGram ; money gram
payment ; Zelle ; zelle
payment ; Venmo ; venmo
payment ; Cash App ; cashapp
payment ; Cash App ; cash app
payment ; cryptocurrency as payment ; @crypto ; payctx
payment ; gift cards as payment ; @gift gift? @card ; payctx
payment ; gift cards as payment ; google play gift? @card ; payctx
payment ; gift cards as payment ; gift card|cards|voucher|vouchers ; payctx
payment ; PayPal friends and family ; friends|friend and family ; paypal
payment ; PayPal friends and family ; f and|n f ; paypal
payment ; PayPal friends and family ; fnf
payment ; payment outside the shop ; pay|paying|payment outside|privately
payment ; payment outside the shop ; pay|send me|us outside|off|privately|directly
payment ; payment outside the shop ; outside|off the|this|of? platform|marketplace|ebay|etsy|amazon|website|site
payment ; avoiding the shop's fees ; avoid|avoiding|skip|dodge|bypass|save|saving *2@feemid fee|fees|commission|commissions
spam ; "click here" ; click here|below|this|the|my link?
spam ; asks to visit a profile ; visit|check my profile|page|store|shop|website|site|channel|bio|link|youtube|instagram|insta|tiktok|onlyfans
spam ; asks to visit a profile ; check|checkout out? my profile|page|store|shop|website|site|channel|bio|link|youtube|instagram|insta|tiktok|onlyfans
spam ; "link in bio" ; link in my? bio
spam ; promises earnings ; earn|earning|make|making *2 $# per|a|an|each|every|/? @period
spam ; promises earnings ; earn|make|making money|cash online|fast|daily|easily|quick|quickly
spam ; promises earnings ; earn|make|making money|cash from home
spam ; work-from-home offer ; work|working from home *3 @money|$#
spam ; work-from-home offer ; work|working from home job|jobs|opportunity|business
spam ; "limited time offer" ; limited time? offer|deal
spam ; "act now" ; act now
spam ; sells followers ; buy|cheap|gain|free *2 followers|likes|subscribers|subs
spam ; sells followers ; buy views
spam ; replicas ; cheap|aaa|best|quality|fake replica|replicas
spam ; replicas ; replica watch|watches|bag|bags|handbags|rolex|shoes|sneakers|jerseys
spam ; gambling ; free spins
spam ; gambling ; sports betting
spam ; gambling ; betting tips
spam ; promo code offer ; use|enter|apply my|code? promo|referral|coupon|discount|invite code
spam ; promo code offer ; my promo|referral|invite|coupon code
spam ; "follow me" ; follow me|us
spam ; "subscribe to my channel" ; subscribe to my|our channel
spam ; free gift card offer ; free gift? card|cards|iphone|money|bitcoin|crypto|robux|vbucks
spam ; guaranteed income ; guaranteed income|profit|profits|returns
spam ; money doubling ; double|triple your money|bitcoin|crypto|investment
`

// Conditions of phrases.
const (
	condNone = iota
	condEnd
	condNoPurchase
	condPayCtx
	condPayPal
	condMsg
	condMsgStrong
	condStart
)

// Modes of single words.
const (
	modeAlways = iota
	modeTargeted
	modeTargetedAdj
	modeYouOnly
	modeUpgrade
)

// Kinds of slot in a phrase.
const (
	slotWords = iota
	slotGap
	slotNumber
	slotMoney
)

// slot is one word of a phrase.
type slot struct {
	kind  uint8
	opt   bool
	max   int      // for gaps
	class uint64   // classes that match (any), or that a gap's words must be in
	words []string // words that match
}

// phrase is a compiled line of phraseDefs.
type phrase struct {
	code    uint8  // the index of the code in codeNames
	detail  uint16 // the index of the detail in lexicon.details
	slots   []slot
	cond    int
	cashApp bool // the phrase names Cash App
}

// lexEntry is a single word that is a finding by itself.
type lexEntry struct {
	code   uint8
	mode   int
	detail uint16 // for the code
	insult uint16 // when reported as an insult (mode upgrade)
}

// wordInfo is what the lexicon knows about a word.
type wordInfo struct {
	class uint64    // the classes the word is in
	lex   *lexEntry // nil unless the word is a finding by itself
	first []*phrase // the phrases that start with the word
	digit byte      // the digit a spelled-out digit stands for, or 0
}

// lexicon is the compiled lexicon.
type lexicon struct {
	words     map[string]*wordInfo
	classes   map[string]uint64
	masked    []string // words that may be written with asterisks
	details   []string // the details of findings: staticDetails, then the lexicon's
	detailIDs map[string]uint16

	// An open-addressing table of words, faster to look up than words:
	// keys and, for each, 1 + its index in all.
	keys []string
	ids  []int32
	mask uint32
	all  []wordInfo
	// filter has, by length and first letter, a bit for the last letter
	// of the words: most words are not in the lexicon, and it tells so
	// without hashing them.
	filter [32][27]uint32
}

// letterIndex is the index of a letter in lexicon.filter, 26 for what
// is not one.
func letterIndex(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a'
	}
	return 26
}

// id returns 1 + the index in lx.all of the word b, or 0 if the lexicon
// does not know it.
func (lx *lexicon) id(b []byte) int32 {
	if len(b) == 0 || len(b) >= len(lx.filter) ||
		lx.filter[len(b)][letterIndex(b[0])]&(1<<letterIndex(b[len(b)-1])) == 0 {
		return 0
	}
	for h := wordHash(b) & lx.mask; ; h = (h + 1) & lx.mask {
		k := lx.keys[h]
		if k == string(b) {
			return lx.ids[h]
		}
		if k == "" {
			return 0
		}
	}
}

// lookup returns what the lexicon knows about the word b, or nil.
func (lx *lexicon) lookup(b []byte) *wordInfo {
	if id := lx.id(b); id > 0 {
		return &lx.all[id-1]
	}
	return nil
}

// wordHash hashes a word (FNV-1a).
func wordHash(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}

// buildTable fills the open-addressing table from words, at most a
// quarter full.
func (lx *lexicon) buildTable() {
	size := 16
	for size < 4*len(lx.words) {
		size *= 2
	}
	lx.keys, lx.ids, lx.mask = make([]string, size), make([]int32, size), uint32(size-1)
	for w, wi := range lx.words {
		h := wordHash([]byte(w)) & lx.mask
		for lx.keys[h] != "" {
			h = (h + 1) & lx.mask
		}
		lx.all = append(lx.all, *wi)
		lx.keys[h], lx.ids[h] = w, int32(len(lx.all))
		if len(w) < len(lx.filter) {
			lx.filter[len(w)][letterIndex(w[0])] |= 1 << letterIndex(w[len(w)-1])
		}
	}
}

// detail returns the index of the detail d in lx.details, adding it.
func (lx *lexicon) detail(d string) uint16 {
	id, ok := lx.detailIDs[d]
	if !ok {
		id = uint16(len(lx.details))
		lx.details = append(lx.details, d)
		lx.detailIDs[d] = id
	}
	return id
}

// Classes, one bit each, in the order of classDefs (compileLexicon checks it).
const (
	clsYou uint64 = 1 << iota
	clsExclaim
	clsPerson
	clsFiller
	clsProof
	clsSelf
	clsSubj
	clsMod
	clsHarm
	clsObj
	clsWreck
	clsThing
	clsPlace
	clsEnd
	clsPurchase
	clsPayCtx
	clsPayAfter
	clsCrypto
	clsGift
	clsCard
	clsFeeMid
	clsMoney
	clsPeriod
	clsPrep
	clsMeUs
	clsMy
	clsMsgAfter
	clsUsage
	clsStrongVerb
	clsMsgName
	clsTelegram
	clsNumWord
	clsMult
	clsUnit
	clsCurrency
	clsNoPhone
	clsTLD
	clsProvider
	clsMsgWeak
	clsPhoneCtx
	clsLocalStop
)

// classNames are the names of the classes, in the order of their bits.
var classNames = [...]string{"you", "exclaim", "person", "filler", "proof", "self", "subj", "mod", "harm", "obj", "wreck", "thing", "place", "end", "purchase", "payctx", "payafter", "crypto", "gift", "card", "feemid", "money", "period", "prep", "meus", "my", "msgafter", "usage", "strongverb", "msgname", "telegram", "numword", "mult", "unit", "currency", "nophone", "tld", "provider", "msgweak", "phonectx", "localstop"}

// theLexicon compiles the lexicon once; it is read-only after.
var theLexicon = sync.OnceValue(func() *lexicon {
	lx, err := compileLexicon()
	if err != nil {
		panic(err)
	}
	return lx
})

// compileLexicon builds the lexicon from classDefs, wordDefs and
// phraseDefs.
func compileLexicon() (*lexicon, error) {
	lx := &lexicon{words: map[string]*wordInfo{}, classes: map[string]uint64{}, detailIDs: map[string]uint16{}}
	for _, d := range staticDetails {
		lx.detail(d)
	}
	word := func(w string) *wordInfo {
		wi := lx.words[w]
		if wi == nil {
			wi = &wordInfo{}
			lx.words[w] = wi
		}
		return wi
	}
	classWords := map[string][]string{}
	for line := range strings.Lines(classDefs) {
		name, ws, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		i := len(lx.classes)
		if i >= len(classNames) || classNames[i] != name {
			return nil, fmt.Errorf("content: lexicon: class %q out of order", name)
		}
		bit := uint64(1) << i
		lx.classes[name] = bit
		classWords[name] = strings.Fields(ws)
		for j, w := range classWords[name] {
			word(w).class |= bit
			if name == "numword" {
				word(w).digit = numberWordDigits[j]
			}
		}
	}
	if len(lx.classes) != len(classNames) {
		return nil, fmt.Errorf("content: lexicon: %d classes, want %d", len(lx.classes), len(classNames))
	}

	for line := range strings.Lines(wordDefs) {
		head, forms, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		f := strings.Fields(head)
		if len(f) != 2 {
			return nil, fmt.Errorf("content: lexicon: bad word line %q", line)
		}
		code, err := codeOf(f[0])
		if err != nil {
			return nil, err
		}
		modes := map[string]int{"always": modeAlways, "targeted": modeTargeted, "targetedadj": modeTargetedAdj,
			"youonly": modeYouOnly, "upgrade": modeUpgrade}
		mode, ok := modes[f[1]]
		if !ok {
			return nil, fmt.Errorf("content: lexicon: bad mode in %q", line)
		}
		for _, w := range strings.Fields(forms) {
			d := f[0] + " " + strconv.Quote(w)
			switch code {
			case cSpam:
				d = "spam word " + strconv.Quote(w)
			case cThreat:
				d = "telling someone to kill themselves"
			}
			e := &lexEntry{code: code, mode: mode, detail: lx.detail(d), insult: lx.detail("insult " + strconv.Quote(w))}
			wi := word(w)
			if wi.lex != nil {
				return nil, fmt.Errorf("content: lexicon: %q twice", w)
			}
			wi.lex = e
			if code != cSpam && code != cThreat && len(w) >= 3 {
				lx.masked = append(lx.masked, w)
			}
		}
	}

	for line := range strings.Lines(phraseDefs) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		p, err := lx.compilePhrase(line, classWords)
		if err != nil {
			return nil, err
		}
		first := p.slots[0]
		for _, w := range first.words {
			word(w).first = append(word(w).first, p)
		}
	}
	delete(lx.words, "")
	lx.buildTable()
	return lx, nil
}

// codeOf maps the short names of codes in the definitions to codes.
func codeOf(name string) (uint8, error) {
	switch name {
	case "profanity":
		return cProfanity, nil
	case "insult":
		return cInsult, nil
	case "threat":
		return cThreat, nil
	case "spam":
		return cSpam, nil
	case "messenger":
		return cMessenger, nil
	case "payment":
		return cPayment, nil
	}
	return 0, fmt.Errorf("content: lexicon: unknown code %q", name)
}

// compilePhrase compiles a line of phraseDefs.
func (lx *lexicon) compilePhrase(line string, classWords map[string][]string) (*phrase, error) {
	f := strings.Split(line, ";")
	if len(f) < 3 || len(f) > 4 {
		return nil, fmt.Errorf("content: lexicon: bad phrase line %q", line)
	}
	code, err := codeOf(strings.TrimSpace(f[0]))
	if err != nil {
		return nil, err
	}
	d := strings.TrimSpace(f[1])
	p := &phrase{code: code, detail: lx.detail(d), cashApp: d == "Cash App"}
	if len(f) == 4 {
		conds := map[string]int{"end": condEnd, "nopurchase": condNoPurchase, "payctx": condPayCtx,
			"paypal": condPayPal, "msg": condMsg, "msgstrong": condMsgStrong, "start": condStart}
		c, ok := conds[strings.TrimSpace(f[3])]
		if !ok {
			return nil, fmt.Errorf("content: lexicon: unknown condition in %q", line)
		}
		p.cond = c
	}
	for _, tok := range strings.Fields(f[2]) {
		var s slot
		if strings.HasSuffix(tok, "?") && len(tok) > 1 {
			s.opt = true
			tok = tok[:len(tok)-1]
		}
		switch {
		case tok == "#":
			s.kind = slotNumber
		case tok == "$#":
			s.kind = slotMoney
		case tok[0] == '*':
			s.kind = slotGap
			n, class, _ := strings.Cut(tok[1:], "@")
			if s.max, err = strconv.Atoi(n); err != nil || s.max < 1 {
				return nil, fmt.Errorf("content: lexicon: bad gap in %q", line)
			}
			if class != "" {
				if s.class = lx.classes[class]; s.class == 0 {
					return nil, fmt.Errorf("content: lexicon: unknown class in %q", line)
				}
			}
		default:
			for _, alt := range strings.Split(tok, "|") {
				if name, ok := strings.CutPrefix(alt, "@"); ok {
					bit := lx.classes[name]
					if bit == 0 {
						return nil, fmt.Errorf("content: lexicon: unknown class %q in %q", name, line)
					}
					s.class |= bit
					if len(p.slots) == 0 {
						s.words = append(s.words, classWords[name]...) // to index the phrase
					}
					continue
				}
				s.words = append(s.words, alt)
			}
		}
		if len(p.slots) == 0 && (s.kind != slotWords || s.opt) {
			return nil, fmt.Errorf("content: lexicon: phrase must start with a word: %q", line)
		}
		p.slots = append(p.slots, s)
	}
	return p, nil
}
