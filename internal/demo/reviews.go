package demo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopguard/shopguard/client"
)

// PostKindParam is the query parameter (or form field) that says what a
// post to a product's posts page (POST /products/{id}/posts) is: a
// review, question, answer, comment or listing.
const PostKindParam = "kind"

// ModerationHeader reports what the shop did with a post, on the answer
// to it, for scripted clients: publish, hold, reject, or not_checked
// (shopguard did not answer; the post waits for a moderator). The status
// says the same: 201 published, 202 held, 422 rejected.
const ModerationHeader = "X-Shop-Moderation"

// postKinds are the kinds of post a product page takes.
var postKinds = []string{"review", "question", "answer", "comment", "listing"}

// Limits of the posts form.
const (
	maxPostText  = 2000
	maxPostTitle = 200
)

// ContentAssessor is what the product pages need from shopguard's API (a
// *client.Client): its content filter.
type ContentAssessor interface {
	AssessContent(ctx context.Context, p client.Post) (client.ContentDecision, error)
}

var _ ContentAssessor = (*client.Client)(nil)

// errNoContentFilter is returned when the guard's shopguard client has
// no content filter.
var errNoContentFilter = errors.New("demo: the shop's shopguard client cannot assess posts")

// AssessContent asks shopguard about a post before it is published, with
// the guard's timeout. There is no failure policy: when shopguard does
// not answer, the post has not been checked (the shop holds it for a
// moderator). Failures other than shopguard's refusals (4xx) are counted
// with the guard's failures.
func (g *Guard) AssessContent(ctx context.Context, p client.Post) (client.ContentDecision, error) {
	ca, ok := g.scorer.(ContentAssessor)
	if !ok {
		return client.ContentDecision{}, errNoContentFilter
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	d, err := ca.AssessContent(ctx, p)
	if err != nil {
		g.noteFailure(err)
		return client.ContentDecision{}, fmt.Errorf("demo: assess post: %w", err)
	}
	return d, nil
}

// boughtPaid reports whether the account has a paid order of the product.
func (s *Shop) boughtPaid(accountID, productID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.orders {
		if o.AccountID == accountID && o.Status == StatusPaid &&
			slices.ContainsFunc(o.Items, func(it OrderItem) bool { return it.Product.ID == productID }) {
			return true
		}
	}
	return false
}

// postContent takes a signed-in customer's post on a product page, has
// shopguard's content filter judge it before anyone sees it, and
// publishes it, holds it for a moderator or rejects it as shopguard says.
// A published review joins the product's reviews.
func (s *Shop) postContent(w http.ResponseWriter, r *http.Request) {
	p, ok := s.catalog.Product(r.PathValue("id"))
	if !ok {
		s.notFound(w, r, "That product")
		return
	}
	acct := s.signedIn(w, r)
	if acct == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	const title = "Your post"
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "message", title, "That form could not be read.", map[string]string{"form": "unreadable form"})
		return
	}
	post := client.Post{Kind: r.Form.Get(PostKindParam), Title: strings.TrimSpace(r.PostForm.Get("title")),
		Text: strings.TrimSpace(r.PostForm.Get("text")), ParentID: strings.TrimSpace(r.PostForm.Get("parent")), TargetID: p.ID}
	errs := map[string]string{}
	if !slices.Contains(postKinds, post.Kind) {
		errs[PostKindParam] = "choose " + strings.Join(postKinds, ", ")
	}
	if post.Kind == "review" {
		rating, err := strconv.Atoi(r.PostForm.Get("rating"))
		if err != nil || rating < 1 || rating > 5 {
			errs["rating"] = "choose 1 to 5 stars"
		}
		post.Rating = rating
	}
	if n := utf8.RuneCountInString(post.Text); n < 3 || n > maxPostText || !utf8.ValidString(post.Text) {
		errs["text"] = fmt.Sprintf("write 3 to %s characters", itoaGrouped(maxPostText))
	}
	if len(post.Title) > maxPostTitle || strings.ContainsAny(post.Title, "\r\n") || !utf8.ValidString(post.Title) {
		errs["title"] = fmt.Sprintf("at most %d characters on one line", maxPostTitle)
	}
	if len(post.ParentID) > 64 || post.ParentID != "" && !validToken(post.ParentID) {
		errs["parent"] = "not a post of this shop"
	}
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "message", title, "Your post could not be sent: check the form.", errs)
		return
	}
	now := s.cfg.Now()
	s.stamp(r, acct, &post, now)
	d, err := s.guard.AssessContent(r.Context(), post)
	var refused *client.Error
	if errors.As(err, &refused) && refused.Status == http.StatusBadRequest {
		field := "text"
		if refused.Field == "title" {
			field = "title"
		}
		s.render(w, r, http.StatusBadRequest, "message", title, "Your post could not be sent: check the form.",
			map[string]string{field: "we could not read this: " + refused.Message})
		return
	}
	moderation := d.Moderation
	if err != nil {
		s.cfg.Log.Warn("post not checked", "post", post.ID, "error", err)
		moderation = notChecked
	}
	w.Header().Set(ModerationHeader, moderation)
	switch moderation {
	case "publish":
		if post.Kind == "review" {
			s.mu.Lock()
			s.reviews[p.ID] = append(s.reviews[p.ID], Review{Product: p.ID, AccountID: acct.ID, Author: acct.Name,
				Rating: post.Rating, Text: post.Text, CreatedAt: now})
			s.mu.Unlock()
		}
		s.render(w, r, http.StatusCreated, "message", title, fmt.Sprintf("Thanks: your %s on %s is published.", post.Kind, p.Name), nil)
	case "reject":
		why := make([]string, 0, len(d.Reasons))
		for _, rs := range d.Reasons {
			if rs.Message != "" && (rs.Weight > 0 || rs.Action != "") {
				why = append(why, rs.Message)
			}
		}
		s.render(w, r, http.StatusUnprocessableEntity, "message", title,
			fmt.Sprintf("We cannot publish this %s: %s.", post.Kind, cmp.Or(strings.Join(why, "; "), "it breaks the rules of the shop")), nil)
	default: // hold, or not checked
		s.render(w, r, http.StatusAccepted, "message", title,
			fmt.Sprintf("Thanks: a moderator will read your %s before it appears on %s.", post.Kind, p.Name), nil)
	}
}

// stamp gives a post its id, time and author as the shop knows them:
// the account, its age, the browser's IP and device, and whether the
// author bought the reviewed product.
func (s *Shop) stamp(r *http.Request, acct *Account, post *client.Post, now time.Time) {
	post.ID, post.CreatedAt = "post_"+randomHex(12), now.UTC().Format(time.RFC3339Nano)
	post.Author = client.PostAuthor{UserID: acct.ID, IP: s.clientIP(r), DeviceID: deviceID(r),
		VerifiedPurchase: post.Kind == "review" && s.boughtPaid(acct.ID, post.TargetID)}
	if !acct.CreatedAt.IsZero() {
		post.Author.CreatedAt = acct.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
}

// as returns the browser acting for another truth: the same cookies (so
// the same session and device), its requests recorded with t. A customer
// signs in and shops as one of the shoppers, and writes a post as one of
// the scenario's actors, so that the report counts their sign-ins,
// step-ups and orders with the other customers'.
func (b *Browser) as(t Truth) *Browser {
	c := *b
	c.truth = t
	return &c
}

// postTo submits a post on a product page.
func (b *Browser) postTo(ctx context.Context, product, kind string, rating int, title, text string) (Response, error) {
	v := url.Values{"text": {text}}
	if rating > 0 {
		v.Set("rating", strconv.Itoa(rating))
	}
	if title != "" {
		v.Set("title", title)
	}
	return b.Post(ctx, "/products/"+product+"/posts?"+PostKindParam+"="+kind, v)
}

// What genuine customers write about each product: things only an owner
// mentions. A {a|b|c} is a choice of wording (vary picks one); {size} is
// a shoe size, {fit} a clothing size, {phone} a phone model; {n}, {days},
// {weeks}, {months} are small numbers (fill puts them in).
var productDetails = map[string][]string{
	"sticker-pack": {"The stickers {survived|have been through} the dishwasher on my {water bottle|lunch box} {twice|several times} {already|so far}.", "Twelve in the pack, all different, and the vinyl {is nice and thick|feels sturdy|is thicker than I expected}.",
		"{Bright|Vivid|Cheerful} colours; my {who} put {half|most|a few} of them on {a laptop|the fridge|a skateboard}.", "They peel off {cleanly|without tearing} {if you change your mind|when you move them}, {no sticky residue|nothing left behind}.", "The {fox|mountain|coffee cup} one is my favourite, it {is on|decorates} my {guitar case|bike helmet|notebook} now."},
	"phone-case": {"Fits my {phone} {snugly|perfectly|like a glove} and the buttons {still click properly|are easy to press|feel clicky}.", "{Dropped|Knocked} my phone {on|onto} the {kitchen tiles|pavement|stone stairs} in week {n} and {not a scratch|it came out fine|no damage at all}.",
		"The soft lining {stopped|got rid of} the {marks|scuffs} my old case {left|used to leave}.", "{Wireless charging|My charging pad} works through it {without taking it off|with no problem}.", "The edge sits {a millimetre|a little} above the {screen|glass}, so it {lies|can lie} face down {safely|on the table}."},
	"usb-c-cable": {"Charges my {laptop|tablet} at full {speed|100 W} {without getting warm|and stays cool}.", "Two metres is {long enough|just right} to reach the {sofa|bed|desk} from the {socket|wall}.",
		"The braiding {still looks new|shows no fraying} after {months} months of {daily use|being thrown in my bag}.", "{Copies|Transfers} {photos|files} from my {camera|drive} {noticeably|a lot} faster than the old cable.", "The plugs click in {firmly|securely} and {do not wobble|stay put}."},
	"coffee-beans": {"Roasted {days} days before it arrived, you can smell it {through the bag|as soon as you open the box}.", "{Chocolate and cherry|Nutty, caramel} notes, {lovely|delicious} in a {moka pot|filter machine|French press}.",
		"A kilo lasts {the two of us|me and my {who}} about {weeks} weeks.", "Makes a {smooth|rich|balanced} {espresso|flat white|cappuccino} {without any bitterness|with a nice crema}.", "The {resealable|zip} bag keeps them fresh {until the end|for weeks}."},
	"french-press": {"One litre is {exactly|just} {four mugs|two big mugs each for us} in the morning.", "The glass is {thicker|sturdier} than on the one I {had|bought} from the supermarket.",
		"The {mesh|steel} filter keeps {almost all|nearly all} the {grounds|sludge} out of the cup.", "{Comes apart|Takes apart} {easily|in seconds} for {cleaning|the dishwasher}.", "The handle stays {cool|comfortable to hold} even with boiling water {inside|in it}."},
	"chef-knife": {"Came sharp enough to slice {tomatoes|onions|bread} {paper thin|without squashing them}.", "{Good|Nice|Solid} weight, the 20 cm blade feels balanced {in the hand|when chopping}.",
		"Still sharp after {months} months of {chopping onions|cooking} {every evening|most days}.", "The handle {does not get|never feels} slippery {with wet hands|when I cook fish}.", "Cuts through {pumpkin|squash|a whole chicken} {without any effort|easily}."},
	"water-bottle": {"Ice was still {rattling|clinking} in it after a {whole|long} day at the {beach|lake|office}.", "Fits the cup holder in my {car|bike frame}, which my old bottle {never did|could not}.",
		"No {metallic|plastic} taste, even with {sparkling water|lemon squash|coffee}.", "The lid has not leaked {once|at all} in my {school bag|rucksack|handbag}.", "{Tea|Coffee} stays hot from {breakfast|seven} until {lunch|noon}."},
	"rain-jacket": {"I took size {fit} {as usual|like always} and there is room for a {fleece|jumper} underneath.", "Stayed dry on a {n} hour {walk|hike|ride} in {steady|heavy|proper} rain.",
		"Packs into its own pocket, {smaller than|about the size of} a {can of beans|water bottle}.", "The hood has a peak that keeps the rain off my {glasses|face}.", "{Breathes|Vents} well on the {bike|steep bits}, no {clammy|sweaty} back."},
	"hiking-boots": {"I {normally|usually} wear a {size} and the {size} fits {well|fine} with {thick|hiking} socks.", "Comfortable straight out of the box, no blisters after {n} km {of hills|on the first day|in the Alps}.",
		"Kept my feet dry {crossing streams|in wet grass|through muddy fields} {on the second day of our trip|in Scotland|last weekend}.", "The sole grips {well|nicely} on {wet rock|slippery roots|loose gravel}.",
		"Heavier than {trail shoes|my old boots} but my ankles feel {safe|supported} on {rough|rocky} paths."},
	"tent": {"Set it up {alone|on my own} in about {n} minutes {on the first try|without reading the instructions}.", "Two people plus {rucksacks|boots and packs} in the porch, {just about|with a bit of squeezing}.",
		"Survived a {windy|stormy} night {on the coast|in the mountains} without {flapping too much|any trouble}.", "{Very little|Hardly any} condensation inside, even on a {cold|damp} night.", "Fits on the {side|bottom} of my backpack {easily|without fuss}."},
	"paperback": {"Read it in {days} evenings, {could not put it down|stayed up far too late}.", "Our book club had a lot to {discuss|argue about}, especially the {ending|second half}.",
		"The paper is a bit thin but the print is {easy on the eyes|a good size}.", "The middle part drags a {little|bit}, the last {hundred|fifty} pages make up for it.", "{Lovely|Beautiful} cover, it looks {nice|great} on the shelf."},
	"cookbook": {"{Cooked|Made} {n} recipes so far and {every one of them|all of them} worked.", "The weeknight chapter {really is|is honestly} doable in half an hour.",
		"Clear photos for every dish, which I {like|appreciate}.", "The shopping lists at the back save me time on {Saturdays|Sundays}.", "My {kids|{who}} actually {eat|enjoy} the vegetable dishes."},
	"headphones": {"Noise cancelling makes my {commute|journey} on the {train|bus|plane} bearable.", "Battery lasts about {n} days of {office use|listening} between charges.",
		"Comfortable on {long flights|a full work day}, no pressure on the {ears|head}.", "Calls sound clear, {colleagues|my team} did not notice I was on a headset.", "Folds flat into the case, which fits in my {laptop bag|backpack}."},
	"smartwatch": {"GPS finds a signal in seconds at the start of my {runs|rides}.", "Battery lasts about {days} days with {sleep tracking|the always-on screen} on.",
		"Heart rate matches my chest strap {closely enough for me|within a beat or two}.", "The strap is soft enough to {sleep in|wear all day}.", "Notifications are easy to read even in {sunshine|bright daylight}."},
	"phone": {"The screen is bright enough to read outside in {summer|the sun}.", "256 GB is plenty for all my {photos and podcasts|music and apps}.", "Battery gets me through a full day with {n} hours of screen time.",
		"The camera does {well|a good job} in {dim restaurants|evening light}.", "Moving my data from the old phone took about {an hour|half an hour}."},
	"laptop": {"Boots in seconds and 16 GB copes with all my {browser tabs|spreadsheets}.", "Light enough to carry to {university|the office} every day.", "The fans only spin up when I {export videos|play games}.",
		"The keyboard is {pleasant|comfortable} to type on for long {essays|reports}.", "Battery lasts a whole {lecture|working} day if I dim the screen."},
	"gift-card-50": {"The e-mail arrived within minutes, perfect for a last-minute {present|birthday}.", "My {who} spent it the same {afternoon|day}.", "Easy to print out and put in a {birthday|Christmas} card.",
		"Nice that you can add a short {message|note}.", "The code worked {at the first attempt|straight away}."},
	"gift-card-200": {"Arrived by e-mail {straight away|within a minute}.", "Our team gave it as a {leaving|wedding} present and the code worked first time.", "Looks smart when printed on {thick|nice} paper.",
		"Good choice when you do not know what {someone|your colleague} wants.", "The balance is shown in the account, {handy|very practical}."},
}

// What customers ask, and what other customers answer, by category.
var (
	categoryQuestions = map[string][]string{
		"Accessories": {"Will it fit a {phone} {with a screen protector on|in a wallet case}?", "Are these {waterproof|weatherproof} enough for a {bike frame|car bumper}?",
			"Does it {support|do} fast charging {for a laptop|with a 65 W charger}?", "{Is it|Would it be} {sturdy|tough} enough for a {toddler|clumsy teenager}?"},
		"Kitchen": {"Is it dishwasher safe?", "Are the beans whole or {already|pre-} ground?", "Does it come with a {sheath|box|guard} for storage?",
			"{How|Roughly how} {long|many weeks} does {a bag|a kilo} stay fresh {once opened|after opening}?"},
		"Outdoor": {"Does it run true to size? I am usually a {size}.", "How heavy is it {when packed|in the bag}?",
			"Is it really waterproof in {heavy|proper} rain, or just {showers|drizzle}?", "{Would|Will} it {work|do} for {a week in Norway|winter walks|the Camino}?"},
		"Books":       {"Is this the edition with the new cover?", "Are the recipes in grams or in cups?", "Is it {suitable|okay} for a {teenager|beginner}?"},
		"Electronics": {"Does it work with an iPhone as well as Android?", "How long does it take to charge from empty?", "Is there a European plug in the box?", "{Can|Does} it {connect to|pair with} two devices at once?"},
		"Gift cards":  {"Can I choose the day the e-mail is sent?", "How long is the card valid once bought?", "Can it be {used|spent} {in several orders|bit by bit}?"},
	}
	categoryAnswers = map[string][]string{
		"Accessories": {"{Yes|Yes,|Yep}, I use mine with a {phone} and a {glass|plastic} protector, {no problem|it fits fine}.",
			"Mine {have been|are still} on my {bike|car} {for|after} {months} months {and survived plenty of rain|and look new|with no peeling}.",
			"{It does|Works} with my {65 W|100 W} {charger|power brick}, {full speed|no issues}."},
		"Kitchen": {"I put mine in the dishwasher every {week|few days|evening} and it {still looks new|is fine|has no marks}.",
			"{Whole beans|They are whole}, so you need a {grinder|mill}.", "{Mine came|It comes} with a {cardboard sleeve|simple guard}, {nothing fancy|which does the job}.",
			"{In my experience|For us} about {weeks} weeks {if you close the bag|in a tin}."},
		"Outdoor": {"I am a {size} in most brands and took the {size}: {perfect fit|fits fine|spot on}.", "It fits in my {daypack|rucksack} with room to spare.",
			"{I used it|Mine did} {in|through} {a week of rain|a wet weekend|Scotland} and {stayed dry|no leaks}."},
		"Books": {"{Everything|All measurements} {is|are} in grams and millilitres.", "Mine came with the new cover{| last {weeks} weeks}.", "My {who} {loved|enjoyed} it{| at 15}."},
		"Electronics": {"Works fine with my {iPhone|Android phone}, the app is in both stores.", "About {n} hours from empty with the cable in the box.",
			"{Yes|Yes,} I switch between my {laptop|tablet} and phone {all the time|every day}."},
		"Gift cards": {"You can pick a date at checkout; mine arrived that {morning|day}.", "Three years, it says so in the e-mail.", "{Yes|Yep}, I used mine {over|across} {n} orders."},
	}
	genericOpeners = []string{"Bought this for my {who}{| as a present| for Christmas}.", "{Second|Third} order from this shop and again no problems.",
		"Replaced an old one that lasted me {n} years.", "Ordered it on a {Sunday|Friday|Monday} {evening|morning}.", "Had it on my wish list for {months|ages}.",
		"Picked this one after reading the {reviews|questions} here.", "Got it as a {present|gift} for my {who}, who {loves|likes} it.", "My {who} recommended it to me."}
	deliveryLines = []string{"Arrived in {days} days.", "Delivery to {city} took {days} working days.", "Came a day later than promised but {well|carefully} packed.",
		"Was at my door {days} days after I ordered.", "Shipping was {quick|fast} and the box was cardboard only, no plastic.",
		"The courier left it with a neighbour, otherwise fine.", "Took {days} days to {city}, which is normal {for here|these days}."}
	priceLines = []string{"For {price} it is good value.", "Worth the {price} in my opinion.", "A little pricey at {price}, but it feels {well made|solid}.",
		"Paid {price}, which is less than the shops in {town|{city}} charge.", "Not cheap, but I would pay {price} again."}
	verdictLines = map[int][]string{
		5: {"Would happily buy again.", "Very pleased overall.", "Exactly what I was hoping for.", "No regrets at all.", "Recommended without hesitation.", "Five stars from me."},
		4: {"One star off because {minor}.", "Good, not perfect: {minor}.", "Happy with it apart from the fact that {minor}.", "Four stars, only because {minor}."},
		3: {"It is okay for the price.", "Does the job, nothing special.", "Mixed feelings, mainly because {minor}.", "Average: {minor}."},
		2: {"Disappointed: {major}.", "Probably sending it back, {major}.", "Not as described, {major}.", "Two stars, {major}."},
	}
	minorFaults = []string{"the box was far too big for it", "the colour is a shade darker than in the photo", "the instructions are printed tiny",
		"it took {days} days longer than the estimate", "the price label was hard to peel off", "it smelled of plastic for a day"}
	majorFaults = []string{"it stopped working after {weeks} weeks", "it is noticeably smaller than the photos suggest", "the stitching came loose within a month",
		"it arrived scratched and the exchange took {weeks} weeks", "it feels cheaper than the price suggests"}
	reviewTitles = map[int][]string{5: {"Love it", "Excellent", "Very happy", "Great buy"}, 4: {"Good buy", "Solid", "Pretty good"},
		3: {"Okay", "Average", "Fine for the price"}, 2: {"Disappointed", "Not great", "Expected more"}}
	genuineComments = []string{"Same here, mine took {days} days to {city} as well.", "Thanks for the {sizing tip|tip}, I ordered one size up.",
		"Good to know, I was wondering about that too.", "Agree with the review above, mine is just the same after {months} months.",
		"{Interesting|Useful}, thanks for {sharing|the detail}."}
	relations = []string{"partner", "dad", "mum", "sister", "brother", "flatmate", "son", "daughter", "colleague"}
	phones    = []string{"Pixel 8", "iPhone 15", "Galaxy A54", "iPhone 13 mini"}
)

// vary picks one wording of each {a|b|c} choice in s (an alternative may
// be empty or hold a placeholder: {me|my {who}}); placeholders ({name})
// stay for fill.
func vary(rng *rand.Rand, s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '{' {
			b.WriteByte(s[i])
			continue
		}
		depth, end, bars := 0, -1, []int{}
		for j := i; j < len(s) && end < 0; j++ {
			switch s[j] {
			case '{':
				depth++
			case '}':
				if depth--; depth == 0 {
					end = j
				}
			case '|':
				if depth == 1 {
					bars = append(bars, j)
				}
			}
		}
		if end < 0 || len(bars) == 0 { // a placeholder (or a stray brace)
			b.WriteByte(s[i])
			continue
		}
		cuts := append(append([]int{i}, bars...), end)
		k := rng.IntN(len(cuts) - 1)
		b.WriteString(s[cuts[k]+1 : cuts[k+1]])
		i = end
	}
	return b.String()
}

// postVars are the details a genuine customer's post is filled in with.
func postVars(rng *rand.Rand, c *customer, p Product) map[string]string {
	v := map[string]string{
		"name": strings.ToLower(p.Name), "price": FormatMoney(p.PriceMinor), "city": c.Account.Address.City,
		"who": pick(rng, relations), "phone": pick(rng, phones), "size": strconv.Itoa(37 + rng.IntN(10)),
		"fit": pick(rng, []string{"S", "M", "L", "XL"}), "n": strconv.Itoa(2 + rng.IntN(9)), "days": strconv.Itoa(2 + rng.IntN(5)),
		"weeks": strconv.Itoa(2 + rng.IntN(5)), "months": strconv.Itoa(2 + rng.IntN(10)),
	}
	v["minor"], v["major"] = fill(vary(rng, pick(rng, minorFaults)), v), fill(vary(rng, pick(rng, majorFaults)), v)
	return v
}

// genuineRating is a customer's star rating: mostly 4 or 5, some 3 or 2.
func genuineRating(rng *rand.Rand) int {
	switch x := rng.Float64(); {
	case x < 0.45:
		return 5
	case x < 0.75:
		return 4
	case x < 0.9:
		return 3
	}
	return 2
}

// paraphrases are words customers put in their own way.
var paraphrases = map[string][]string{
	"very": {"really", "quite", "pretty"}, "good": {"decent", "nice", "fine"}, "happy": {"pleased", "glad"},
	"quick": {"fast", "speedy"}, "lovely": {"great", "nice"}, "bought": {"got", "ordered"}, "arrived": {"came", "turned up"},
	"exactly": {"just", "precisely"}, "really": {"truly", "genuinely"}, "comfortable": {"comfy"}, "photo": {"picture"},
	"photos": {"pictures"}, "noticeably": {"clearly"}, "plenty": {"loads"}, "pleased": {"happy", "chuffed"}, "little": {"bit"},
}

// paraphrase replaces some of text's words with words of the same
// meaning, as people put the same thing differently.
func paraphrase(rng *rand.Rand, text string) string {
	words := strings.Split(text, " ")
	for i, w := range words {
		core := strings.TrimRight(w, ".,;:!?")
		if alts, ok := paraphrases[core]; ok && rng.Float64() < 0.5 {
			words[i] = pick(rng, alts) + w[len(core):]
		}
	}
	return strings.Join(words, " ")
}

// genuineReview writes a customer's review of p: a product detail or two,
// perhaps how it came and what it cost, and a verdict that fits the
// rating, in a varied order, length and wording.
func genuineReview(rng *rand.Rand, c *customer, p Product, rating int) (title, text string) {
	v := postVars(rng, c, p)
	details := slices.Clone(productDetails[p.ID])
	rng.Shuffle(len(details), func(i, j int) { details[i], details[j] = details[j], details[i] })
	middle := details[:1+rng.IntN(2)]
	if rng.Float64() < 0.5 {
		middle = append(middle, pick(rng, deliveryLines))
	}
	if rng.Float64() < 0.35 {
		middle = append(middle, pick(rng, priceLines))
	}
	rng.Shuffle(len(middle), func(i, j int) { middle[i], middle[j] = middle[j], middle[i] })
	var parts []string
	if rng.Float64() < 0.4 {
		parts = append(parts, pick(rng, genericOpeners))
	}
	parts = append(parts, middle...)
	parts = append(parts, pick(rng, verdictLines[rating]))
	if rng.Float64() < 0.5 {
		title = pick(rng, reviewTitles[rating])
	}
	return title, paraphrase(rng, fill(vary(rng, strings.Join(parts, " ")), v))
}

// genuinePost plays a customer who signs in and writes on a product
// page: mostly a review of something they bought (most of the time
// bought here just before: a verified purchase), otherwise a question, an
// answer to another customer or a comment. The visit, sign-in and order
// are a shopper's; only the post is recorded for the scenario.
func genuinePost(ctx context.Context, st *Stage, rng *rand.Rand, c *customer, catalog *Catalog) {
	dev := pick(rng, c.Devices)
	b := st.NewBrowser(Truth{Actor: c.Account.ID, Scenario: "shoppers"}, dev.ID, pick(rng, c.HomeIPs), dev.UserAgent)
	p, _ := catalog.Product(shoppingBasket(rng)[0])
	if _, err := b.Get(ctx, "/products/"+p.ID); err != nil || !st.Think(ctx, rng, 2*time.Second, 8*time.Second) {
		return
	}
	if signedIn, ok := customerSignIn(ctx, st, b, rng, c); !signedIn || !ok {
		return
	}
	v := postVars(rng, c, p)
	kind, rating, title, text := "review", 0, "", ""
	switch x := rng.Float64(); {
	case x < 0.62:
		rating = genuineRating(rng)
		title, text = genuineReview(rng, c, p, rating)
		if rng.Float64() < 0.85 {
			buyFirst(ctx, st, b, rng, c, p)
		}
	case x < 0.8:
		kind, text = "question", fill(vary(rng, pick(rng, categoryQuestions[p.Category])), v)
	case x < 0.93:
		kind, text = "answer", pick(rng, categoryAnswers[p.Category])
	default:
		kind, text = "comment", pick(rng, genuineComments)
	}
	if kind == "answer" || kind == "comment" {
		if rng.Float64() < 0.6 { // and what they know of theirs
			text += " " + pick(rng, productDetails[p.ID])
		}
		text = paraphrase(rng, fill(vary(rng, text), v))
	}
	if !st.Think(ctx, rng, 10*time.Second, 60*time.Second) { // typing
		return
	}
	_, _ = b.as(Truth{Actor: c.Account.ID, Scenario: "review_spam"}).postTo(ctx, p.ID, kind, rating, title, text)
}

// buyFirst buys the product the customer is about to review, so that the
// shop knows the review for a verified purchase (when the order is paid).
func buyFirst(ctx context.Context, st *Stage, b *Browser, rng *rand.Rand, c *customer, p Product) {
	if _, err := b.AddToCart(ctx, p.ID, 1); err != nil {
		return
	}
	if _, err := b.Get(ctx, "/checkout"); err != nil || !st.Think(ctx, rng, 4*time.Second, 12*time.Second) {
		return
	}
	_, _ = b.Checkout(ctx, rng, checkoutForm("", c.Cards[0], c.Account.Address, c.Account.Address), p.PriceMinor)
}

// The paid review campaign: one glowing review, pasted by every account
// of a review farm with a few words swapped and the punctuation changed.
const (
	campaignTitle  = "Best {name} ever!!"
	campaignReview = "Absolutely love this {name}! The quality is outstanding and it looks even better than in the photos. " +
		"It arrived super fast and was perfectly packaged. I compared it with five other brands and nothing comes close at this price. " +
		"Customer service answered all my questions within minutes. Best purchase I have made this year, worth every single cent. " +
		"Highly recommend it to everyone, you won't be disappointed!"
)

// campaignSwaps are the farm's word swaps.
var campaignSwaps = [][2]string{{"Absolutely", "Really"}, {"outstanding", "amazing"}, {"even better", "much better"},
	{"super fast", "really fast"}, {"perfectly", "nicely"}, {"five other", "several other"}, {"within minutes", "in minutes"},
	{"Best purchase", "Best buy"}, {"single cent", "cent"}, {"Highly", "Strongly"}, {"everyone", "anyone"}, {"disappointed", "sorry"}}

// campaignCopy is one account's copy of the campaign's review: one to
// three words swapped and some punctuation changed.
func campaignCopy(rng *rand.Rand, p Product) (title, text string) {
	text = strings.ReplaceAll(campaignReview, "{name}", strings.ToLower(p.Name))
	for _, i := range rng.Perm(len(campaignSwaps))[:1+rng.IntN(3)] {
		text = strings.Replace(text, campaignSwaps[i][0], campaignSwaps[i][1], 1)
	}
	switch rng.IntN(4) {
	case 0:
		text = strings.ReplaceAll(text, "!", "!!")
	case 1:
		text = strings.Replace(text, "!", ".", 1)
	case 2:
		text = strings.TrimSuffix(text, "!") + " :)"
	}
	title = strings.ReplaceAll(campaignTitle, "{name}", strings.ToLower(p.Name))
	if rng.IntN(2) == 0 {
		title = strings.TrimRight(title, "!")
	}
	return title, text
}

// campaignProducts are what review farms are paid to push.
var campaignProducts = []string{"smartwatch", "headphones", "water-bottle", "phone-case"}

// runReviewCampaign plays a review farm from a tenth of the run to three
// fifths of it (on a slow machine, until the run ends): 20 to 40 fresh
// accounts (about a third of them on one of three shared phones, the
// others each on its own), signed up through residential proxies, each
// posting a copy of one 5-star review of one product, one after another.
func runReviewCampaign(ctx context.Context, st *Stage, rng *rand.Rand, catalog *Catalog) {
	if !st.WaitUntil(ctx, 0.1) {
		return
	}
	p, _ := catalog.Product(pick(rng, campaignProducts))
	n := 20 + rng.IntN(21)
	shared := []device{newDevice(rng, true), newDevice(rng, true), newDevice(rng, true)}
	gap := time.Duration(0.5 * float64(st.sim.cfg.Duration) / float64(n))
	for i := range n {
		dev := newDevice(rng, rng.Float64() < 0.6)
		if rng.Float64() < 0.35 {
			dev = pick(rng, shared)
		}
		home := pickCountry(rng, countries)
		truth := Truth{Actor: fmt.Sprintf("review-farm-%02d", i+1), Scenario: "review_spam", Fraud: true}
		b := st.NewBrowser(truth, dev.ID, randomIP(rng, home.Octet), dev.UserAgent)
		first, last := pick(rng, firstNames), pick(rng, lastNames)
		email := fmt.Sprintf("%s.%s%d@%s", first, last, 1000+rng.IntN(9000), pick(rng, home.Mail))
		resp, err := b.Signup(ctx, email, titleCase(first)+" "+titleCase(last[:1])+".", fmt.Sprintf("farm-%x", rng.Uint64()), randomAddress(rng, home))
		if err != nil {
			return
		}
		if resp.Status == http.StatusOK {
			title, text := campaignCopy(rng, p)
			if _, err := b.postTo(ctx, p.ID, "review", 5, title, text); errors.Is(err, ErrRequestBudget) {
				return
			}
		}
		if !sleep(ctx, gap) {
			return
		}
	}
}

// spamListings are the spammer's listings: the shop's goods or gift
// cards cheaper, paid outside the shop, arranged on a messenger.
var spamListings = [][2]string{
	{"Brand new {name}, still sealed", "Brand new {name}, still sealed, half the shop price! WhatsApp me on +44 7700 900{nnn} for details, pay by bank transfer and I ship the same day."},
	{"Northwind gift cards -40%", "Selling 200 € Northwind gift cards for 120 €. Contact me on WhatsApp +31 6 {nnnn} {nnnn}. Payment by bank transfer only."},
	{"{name} cheaper than here", "Same {name} for much less than here. Message me on Telegram @nw_deals{nnn} or WhatsApp 0044 7700 900{nnn}. I accept Amazon gift cards or bank transfer."},
	{"Discount on any order", "Pay me with Steam gift card codes and I order anything from this shop for you at 40% off. Text or WhatsApp +33 6 {nn} {nn} {nn} {nn}."},
}

// lookalikeComment is the spammer's comment with a link to a lookalike of
// the shop's domain.
const lookalikeComment = "Northwind is giving every customer who leaves a review a 50 € voucher this week! " +
	"Claim yours before it expires: https://n0rthwind.shop/rewards/claim?c={tok}"

// runListingSpammer plays a spammer who opens an account from a hosting
// provider's network at three tenths of the run and posts listings with
// messenger numbers and off-platform payment on resale goods, then a
// comment with a link to a lookalike of the shop's domain.
func runListingSpammer(ctx context.Context, st *Stage, rng *rand.Rand, catalog *Catalog) {
	if !st.WaitUntil(ctx, 0.3) {
		return
	}
	truth := Truth{Actor: "spammer-1", Scenario: "review_spam", Fraud: true}
	ip := fmt.Sprintf("45.%d.%d.%d", 10+rng.IntN(200), rng.IntN(256), 2+rng.IntN(250))
	b := st.NewBrowser(truth, "", ip, pick(rng, desktopAgents))
	home := pickCountry(rng, countries)
	resp, err := b.Signup(ctx, fmt.Sprintf("deals%d@%s", rng.IntN(100000), pick(rng, freemail)), "Best Deals",
		fmt.Sprintf("spam-%x", rng.Uint64()), randomAddress(rng, home))
	if err != nil || resp.Status != http.StatusOK {
		return
	}
	digits := func(n int) string {
		var sb strings.Builder
		for range n {
			sb.WriteByte(byte('0' + rng.IntN(10)))
		}
		return sb.String()
	}
	for _, l := range spamListings {
		p, _ := catalog.Product(pick(rng, treats))
		v := map[string]string{"name": strings.ToLower(p.Name)}
		title, text := fill(l[0], v), fill(l[1], v)
		for strings.Contains(text, "{nn") { // each number its own digits
			text = strings.Replace(text, "{nnnn}", digits(4), 1)
			text = strings.Replace(text, "{nnn}", digits(3), 1)
			text = strings.Replace(text, "{nn}", digits(2), 1)
		}
		if _, err := b.postTo(ctx, p.ID, "listing", 0, title, text); err != nil || !st.Think(ctx, rng, 5*time.Second, 20*time.Second) {
			return
		}
	}
	p, _ := catalog.Product(pick(rng, everyday))
	_, _ = b.postTo(ctx, p.ID, "comment", 0, "", fill(lookalikeComment, map[string]string{"tok": randomToken(rng, 8)}))
}

// abusiveComment is a customer's threat over a late parcel.
const abusiveComment = "Third week waiting for my {name} and support keeps ignoring me. You are useless idiots. " +
	"If the parcel is not here by Friday I will find you and hurt you."

// runAbuser plays a customer who, at half the run, signs in
// (as a customer: only the comment is the attack) and threatens the
// shop's staff in a comment.
func runAbuser(ctx context.Context, st *Stage, rng *rand.Rand, catalog *Catalog) {
	if !st.WaitUntil(ctx, 0.5) {
		return
	}
	c := st.sim.pop.customers[rng.IntN(len(st.sim.pop.customers))]
	dev := c.Devices[0]
	b := st.NewBrowser(Truth{Actor: c.Account.ID, Scenario: "shoppers"}, dev.ID, c.HomeIPs[0], dev.UserAgent)
	if signedIn, ok := customerSignIn(ctx, st, b, rng, c); !signedIn || !ok {
		return
	}
	p, _ := catalog.Product(pick(rng, everyday))
	_, _ = b.as(Truth{Actor: "abuser-" + c.Account.ID, Scenario: "review_spam", Fraud: true}).postTo(ctx, p.ID, "comment", 0, "", fill(abusiveComment, map[string]string{"name": strings.ToLower(p.Name)}))
}

// runReviewSpam plays customers who write reviews, questions, answers
// and comments on product pages (a post per 40 shopping sessions' worth
// of the configured rate) while a review farm pastes one 5-star review
// from fresh accounts, a spammer posts listings with messenger numbers,
// off-platform payment and a lookalike link, and a customer threatens
// the staff. The shop has shopguard's content filter judge every post.
func runReviewSpam(ctx context.Context, st *Stage) {
	catalog := NewCatalog()
	st.Go(func(rng *rand.Rand, _ int64) { runReviewCampaign(ctx, st, rng, catalog) })
	st.Go(func(rng *rand.Rand, _ int64) { runListingSpammer(ctx, st, rng, catalog) })
	st.Go(func(rng *rand.Rand, _ int64) { runAbuser(ctx, st, rng, catalog) })
	arrivals(ctx, st, st.sim.cfg.Rate/40, func(ctx context.Context, rng *rand.Rand, _ int64) {
		genuinePost(ctx, st, rng, st.sim.pop.pickActive(rng), catalog)
	})
}

// PostSummary is what became of the posts written on product pages in
// the review_spam scenario, by the simulator's truth. Outcomes are
// publish, hold and reject (the shop's answer); Failed counts posts that
// got another answer (a form error, a lost session, a 5xx).
type PostSummary struct {
	Genuine map[string]int `json:"genuine"`
	// Campaign holds the outcome of each copy of the review farm's
	// review, in posting order; CampaignProduct is the product.
	Campaign        []string `json:"campaign"`
	CampaignProduct string   `json:"campaign_product,omitempty"`
	// Other counts the other attackers' posts: listings with contact
	// details and off-platform payment, a lookalike link, a threat.
	Other  map[string]int `json:"other"`
	Failed int            `json:"failed"`
}

// postOutcome is the shop's moderation of a post by the answer's status
// ("" for an answer that is none of them).
func postOutcome(status int) string {
	switch status {
	case http.StatusCreated:
		return "publish"
	case http.StatusAccepted:
		return "hold"
	case http.StatusUnprocessableEntity:
		return "reject"
	}
	return ""
}

// postTarget returns the product and kind of a post's request path
// (/products/{id}/posts?kind=...).
func postTarget(path string) (product, kind string, ok bool) {
	u, err := url.Parse(path)
	if err != nil {
		return "", "", false
	}
	rest, found := strings.CutPrefix(u.Path, "/products/")
	product, found2 := strings.CutSuffix(rest, "/posts")
	if !found || !found2 || product == "" || strings.Contains(product, "/") {
		return "", "", false
	}
	return product, u.Query().Get(PostKindParam), true
}

// summarizePosts counts the review_spam scenario's posts by truth and
// outcome from the simulator's records.
func summarizePosts(reqs []RequestRecord) PostSummary {
	s := PostSummary{Genuine: map[string]int{}, Other: map[string]int{}}
	var campaign []RequestRecord
	for _, q := range reqs {
		product, kind, ok := postTarget(q.Path)
		if q.Method != http.MethodPost || q.Truth.Scenario != "review_spam" || !ok {
			continue
		}
		out := postOutcome(q.Status)
		switch {
		case out == "":
			s.Failed++
		case !q.Truth.Fraud:
			s.Genuine[out]++
		case kind == "review":
			campaign = append(campaign, q)
			s.CampaignProduct = product
		default:
			s.Other[out]++
		}
	}
	slices.SortStableFunc(campaign, func(a, b RequestRecord) int { return a.At.Compare(b.At) })
	for _, q := range campaign {
		s.Campaign = append(s.Campaign, postOutcome(q.Status))
	}
	return s
}

// CampaignCaught is the number of the campaign's copies held or rejected.
func (s PostSummary) CampaignCaught() int {
	return len(s.Campaign) - s.CampaignPublished()
}

// CampaignPublished is the number of the campaign's copies published.
func (s PostSummary) CampaignPublished() int {
	n := 0
	for _, o := range s.Campaign {
		if o == "publish" {
			n++
		}
	}
	return n
}

// write prints the posts' lines of the results.
func (s PostSummary) write(w io.Writer) {
	genuine := s.Genuine["publish"] + s.Genuine["hold"] + s.Genuine["reject"]
	other := s.Other["publish"] + s.Other["hold"] + s.Other["reject"]
	if genuine+len(s.Campaign)+other == 0 {
		return
	}
	fmt.Fprintf(w, "Posts on product pages, each judged by shopguard's content filter before publishing: %d genuine (published %d, held %d, rejected %d), %d from attackers",
		genuine, s.Genuine["publish"], s.Genuine["hold"], s.Genuine["reject"], len(s.Campaign)+other)
	if s.Failed > 0 {
		fmt.Fprintf(w, "; %d not posted (form error, lost session or shop error)", s.Failed)
	}
	fmt.Fprintln(w, ".")
	if len(s.Campaign) > 0 {
		name := s.CampaignProduct
		if p, ok := NewCatalog().Product(name); ok {
			name = p.Name
		}
		var held, rejected int
		for _, o := range s.Campaign {
			held += boolInt(o == "hold")
			rejected += boolInt(o == "reject")
		}
		fmt.Fprintf(w, "Paid review campaign (one 5-star review of %s pasted with small edits by fresh accounts): %d copies, caught %d (held %d, rejected %d), published %d. "+
			"The first copies are published as expected: a campaign is recognised from its 3rd copy on (near-copies by 3 accounts in 24 h are held, by 5 rejected).\n",
			name, len(s.Campaign), s.CampaignCaught(), held, rejected, s.CampaignPublished())
	}
	if other > 0 {
		fmt.Fprintf(w, "Spam listings (messenger numbers, payment outside the shop), a lookalike link and a threat: %d posts, caught %d (held %d, rejected %d), published %d.\n",
			other, s.Other["hold"]+s.Other["reject"], s.Other["hold"], s.Other["reject"], s.Other["publish"])
	}
}
