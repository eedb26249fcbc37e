// Package demo is shopguard's demonstration: a small but real web shop that
// asks shopguard for decisions at the points a real shop would, a fake card
// processor, and a traffic simulator that plays shoppers and attackers
// against the shop while keeping the ground truth of every request to
// itself. `shopguard demo` runs them together and reports what was caught.
package demo

import (
	"slices"
	"strings"
)

// Currency is the currency the demo shop sells in.
const Currency = "EUR"

// Product is an item the demo shop sells.
type Product struct {
	ID          string
	Name        string
	Category    string
	Description string
	PriceMinor  int64 // euro cents
	// Resale marks goods fraudsters favour: easy to resell or send on.
	Resale bool
}

// Price formats the product's price.
func (p Product) Price() string { return FormatMoney(p.PriceMinor) }

// Catalog is the shop's product list, indexed by id.
type Catalog struct {
	products []Product
	byID     map[string]Product
}

// NewCatalog returns the demo shop's fixed product range.
func NewCatalog() *Catalog {
	ps := []Product{
		{"sticker-pack", "Sticker pack", "Accessories", "Twelve vinyl stickers for laptops and bottles.", 199, false},
		{"phone-case", "Phone case", "Accessories", "Shock-absorbing case with a soft lining.", 1490, false},
		{"usb-c-cable", "USB-C cable, 2 m", "Accessories", "Braided cable, 100 W charging, 10 Gbit/s.", 1290, false},
		{"coffee-beans", "Coffee beans, 1 kg", "Kitchen", "Single-origin beans, roasted this week.", 2490, false},
		{"french-press", "French press", "Kitchen", "Borosilicate glass, one litre.", 3450, false},
		{"chef-knife", "Chef's knife", "Kitchen", "20 cm forged steel blade.", 7900, false},
		{"water-bottle", "Insulated bottle", "Outdoor", "Keeps drinks cold for 24 hours.", 2990, false},
		{"rain-jacket", "Rain jacket", "Outdoor", "Breathable, taped seams, packs into its pocket.", 12900, false},
		{"hiking-boots", "Hiking boots", "Outdoor", "Waterproof leather boots with a grippy sole.", 16900, false},
		{"tent", "Two-person tent", "Outdoor", "1.9 kg, sets up in five minutes.", 24900, false},
		{"paperback", "Novel (paperback)", "Books", "This month's book-club pick.", 1299, false},
		{"cookbook", "Cookbook", "Books", "Weeknight dinners in thirty minutes.", 2899, false},
		{"headphones", "Noise-cancelling headphones", "Electronics", "Thirty hours of battery, folds flat.", 27900, true},
		{"smartwatch", "Smartwatch", "Electronics", "Heart rate, GPS and a week of battery.", 34900, true},
		{"phone", "Smartphone", "Electronics", "6.5-inch screen, 256 GB.", 79900, true},
		{"laptop", "Laptop 14\"", "Electronics", "16 GB memory, 1 TB SSD.", 129900, true},
		{"gift-card-50", "Gift card, 50 €", "Gift cards", "Delivered by e-mail.", 5000, true},
		{"gift-card-200", "Gift card, 200 €", "Gift cards", "Delivered by e-mail.", 20000, true},
	}
	c := &Catalog{products: ps, byID: make(map[string]Product, len(ps))}
	for _, p := range ps {
		c.byID[p.ID] = p
	}
	return c
}

// Products returns every product in catalogue order.
func (c *Catalog) Products() []Product { return slices.Clone(c.products) }

// Product returns the product with id.
func (c *Catalog) Product(id string) (Product, bool) {
	p, ok := c.byID[id]
	return p, ok
}

// Search returns the products whose name, category or description contains
// every word of q (case-insensitive); an empty q returns everything.
func (c *Catalog) Search(q string) []Product {
	words := strings.Fields(strings.ToLower(q))
	var out []Product
	for _, p := range c.products {
		text := strings.ToLower(p.Name + " " + p.Category + " " + p.Description)
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(text, w) }) {
			out = append(out, p)
		}
	}
	return out
}

// FormatMoney formats euro cents as "1,234.50 €".
func FormatMoney(minor int64) string {
	neg := minor < 0
	if neg {
		minor = -minor
	}
	units, cents := minor/100, minor%100
	s := itoaGrouped(units) + "." + string(rune('0'+cents/10)) + string(rune('0'+cents%10)) + " €"
	if neg {
		return "-" + s
	}
	return s
}

func itoaGrouped(n int64) string {
	digits := []byte{}
	for i := 0; n > 0 || i == 0; i++ {
		if i > 0 && i%3 == 0 {
			digits = append(digits, ',')
		}
		digits = append(digits, byte('0'+n%10))
		n /= 10
	}
	slices.Reverse(digits)
	return string(digits)
}
