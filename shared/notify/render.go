package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	texttemplate "text/template"
	"time"
)

// Template blocks each <kind>.<locale>.tmpl file defines. email.html is run
// by html/template (contextual escaping); the others by text/template, so an
// SMS shows "O'Brien & Sons", not "O&#39;Brien &amp; Sons".
const (
	blockSMS          = "sms"
	blockEmailSubject = "email.subject"
	blockEmailText    = "email.text"
	blockEmailHTML    = "email.html"
	blockPushTitle    = "push.title"
	blockPushBody     = "push.body"
)

var requiredBlocks = []string{blockSMS, blockEmailSubject, blockEmailText, blockEmailHTML, blockPushTitle, blockPushBody}

// The templates live in files so that wording can be reviewed (and
// translated) apart from code; they are compiled into the binary so a
// deployment cannot ship without them.
//
//go:embed templates/*.tmpl
var embedded embed.FS

// defaultRenderer holds the embedded templates. Building it at package
// initialisation means a broken template stops every binary and test that
// imports notify, instead of failing the first message sent.
var defaultRenderer = mustEmbeddedRenderer()

func mustEmbeddedRenderer() *Renderer {
	sub, err := fs.Sub(embedded, "templates")
	if err != nil {
		panic(err)
	}
	r, err := NewRenderer(sub)
	if err != nil {
		panic(err)
	}
	return r
}

// Render renders d for the channel ch with the templates built into the
// package. See Renderer.Render.
func Render(d Data, ch Channel) (Content, error) { return defaultRenderer.Render(d, ch) }

// ResolveLocale maps a patient's locale to a template locale by its base
// language, ignoring case and region: "th", "th-TH" and "TH" give "th";
// "en", "en-US" and "en_GB" give "en". Anything else, including "", gives
// DefaultLocale.
func ResolveLocale(s string) string {
	base, _, _ := strings.Cut(strings.TrimSpace(s), "-")
	base, _, _ = strings.Cut(base, "_")
	base = strings.ToLower(base)
	for _, l := range Locales {
		if l == base {
			return l
		}
	}
	return DefaultLocale
}

// Renderer renders messages from template files. The files are:
//
//   - <kind>.<locale>.tmpl for every Kind in Kinds and every locale in
//     Locales, each defining the blocks sms, email.subject, email.text,
//     email.html, push.title and push.body;
//   - common.<locale>.tmpl for every locale: blocks shared by that locale's
//     files (greeting, details, preparation, fasting sentence, HTML layout).
//
// Each kind file is parsed together with its locale's common file, once by
// text/template and once by html/template; only email.html is executed
// through html/template. Templates see the fields of view, already formatted
// for the locale and the branch's time zone. templates/README.md describes
// the fields, the whitespace rules and what each channel may show. A
// Renderer is safe for concurrent use.
type Renderer struct {
	sets map[setKey]*templateSet
}

type setKey struct {
	kind   Kind
	locale string
}

type templateSet struct {
	name string // the kind file, for errors
	text *texttemplate.Template
	html *htmltemplate.Template
}

// NewRenderer parses the template files at the root of fsys and checks them
// completely: every kind × locale file exists, there is no other .tmpl file
// (a misspelt name would otherwise be ignored), every required block is
// defined, and every file renders sample data on every channel. Files not
// ending in .tmpl (a README) are ignored.
func NewRenderer(fsys fs.FS) (*Renderer, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("notify: read templates: %w", err)
	}
	want := map[string]bool{}
	for _, l := range Locales {
		want[commonFile(l)] = true
		for _, k := range Kinds() {
			want[kindFile(k, l)] = true
		}
	}
	var errs []error
	have := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".tmpl") {
			continue
		}
		if !want[name] {
			errs = append(errs, fmt.Errorf("notify: template %s: not a <kind>.<locale>.tmpl or common.<locale>.tmpl file", name))
		}
		have[name] = true
	}
	var missing []string
	for name := range want {
		if !have[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		errs = append(errs, fmt.Errorf("notify: template %s: missing", name))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	r := &Renderer{sets: map[setKey]*templateSet{}}
	for _, l := range Locales {
		for _, k := range Kinds() {
			s, err := parseSet(fsys, k, l)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			r.sets[setKey{k, l}] = s
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

func kindFile(k Kind, locale string) string { return string(k) + "." + locale + ".tmpl" }
func commonFile(locale string) string       { return "common." + locale + ".tmpl" }

// parseSet parses one kind file with its common file and proves it renders.
// html/template escapes a template on its first execution, so the sample
// renders are also what turns an escaping error (an action inside an
// unclosed attribute, say) into an error here rather than at send time.
func parseSet(fsys fs.FS, k Kind, locale string) (*templateSet, error) {
	name := kindFile(k, locale)
	files := []string{commonFile(locale), name}
	text, err := texttemplate.ParseFS(fsys, files...)
	if err != nil {
		return nil, fmt.Errorf("notify: template %s: %w", name, err)
	}
	html, err := htmltemplate.ParseFS(fsys, files...)
	if err != nil {
		return nil, fmt.Errorf("notify: template %s: %w", name, err)
	}
	s := &templateSet{name: name, text: text, html: html}
	for _, b := range requiredBlocks {
		if text.Lookup(b) == nil {
			return nil, fmt.Errorf("notify: template %s: block %q is not defined", name, b)
		}
	}
	for _, d := range sampleData(k, locale) {
		for _, ch := range Channels() {
			if _, err := s.render(newView(d), ch); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// sampleData is a fully filled and a minimal Data, so that NewRenderer runs
// both sides of most conditionals. A fixed zone keeps initialisation
// independent of the host's tz database.
func sampleData(k Kind, locale string) []Data {
	start := time.Date(2026, 11, 26, 2, 30, 0, 0, time.UTC)
	full := Data{
		Kind: k, Locale: locale, AppointmentID: "apt_sample",
		PatientName: "Sample", ServiceName: "Sample service",
		BranchName: "Sample branch", BranchAddress: "Sample address",
		Start: start, End: start.Add(30 * time.Minute), Location: time.FixedZone("", thaiOffset),
		LeadTime: 24 * time.Hour, Amount: "1250.00", Currency: "THB",
	}
	full.Preparation.FastingHours = 8
	full.Preparation.Instructions = map[string]string{locale: "Sample instructions"}
	return []Data{full, {Kind: k, Locale: locale, Start: start}}
}

// Render renders d for the channel ch:
//
//   - sms: Text only;
//   - email: Subject, Text (plain-text body) and HTML;
//   - push: Subject (the title) and Text (the body).
//
// The locale is ResolveLocale(d.Locale). Times are shown in d.Location (or
// in d.Start's own location when d.Location is nil). d.Kind must be one of
// Kinds and d.Start must be set. Errors depend only on d and ch, so retrying
// the same message cannot succeed.
func (r *Renderer) Render(d Data, ch Channel) (Content, error) {
	if d.Start.IsZero() {
		return Content{}, fmt.Errorf("notify: render %s %s: no start time", d.Kind, ch)
	}
	s, ok := r.sets[setKey{d.Kind, ResolveLocale(d.Locale)}]
	if !ok {
		return Content{}, fmt.Errorf("notify: render: unknown kind %q", d.Kind)
	}
	return s.render(newView(d), ch)
}

func (s *templateSet) render(v view, ch Channel) (Content, error) {
	var c Content
	var err error
	switch ch {
	case ChannelSMS:
		c.Text, err = s.line(blockSMS, v)
	case ChannelEmail:
		var errs [3]error
		c.Subject, errs[0] = s.line(blockEmailSubject, v)
		c.Text, errs[1] = s.body(v)
		c.HTML, errs[2] = s.htmlBody(v)
		err = errors.Join(errs[:]...)
	case ChannelPush:
		var errs [2]error
		c.Subject, errs[0] = s.line(blockPushTitle, v)
		c.Text, errs[1] = s.line(blockPushBody, v)
		err = errors.Join(errs[:]...)
	default:
		return Content{}, fmt.Errorf("notify: render %s: unknown channel %q", s.name, ch)
	}
	if err != nil {
		return Content{}, err
	}
	return c, nil
}

// line renders a one-line block with all whitespace runs collapsed to one
// space, so templates can be laid out over several lines and an omitted
// optional part leaves no double space.
func (s *templateSet) line(block string, v view) (string, error) {
	out, err := s.execText(block, v)
	if err != nil {
		return "", err
	}
	out = strings.Join(strings.Fields(out), " ")
	if out == "" {
		return "", fmt.Errorf("notify: template %s: block %q rendered empty", s.name, block)
	}
	return out, nil
}

var blankLines = regexp.MustCompile(`\n{3,}`)

// body renders the plain-text email body. Trailing spaces are cut and runs of
// blank lines become one, so a section left out by a conditional leaves no
// gap.
func (s *templateSet) body(v view) (string, error) {
	out, err := s.execText(blockEmailText, v)
	if err != nil {
		return "", err
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	out = strings.TrimSpace(blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
	if out == "" {
		return "", fmt.Errorf("notify: template %s: block %q rendered empty", s.name, blockEmailText)
	}
	return out + "\n", nil
}

func (s *templateSet) htmlBody(v view) (string, error) {
	var b bytes.Buffer
	if err := s.html.ExecuteTemplate(&b, blockEmailHTML, v); err != nil {
		return "", fmt.Errorf("notify: template %s: %w", s.name, err)
	}
	out := strings.TrimSpace(b.String())
	if out == "" {
		return "", fmt.Errorf("notify: template %s: block %q rendered empty", s.name, blockEmailHTML)
	}
	return out + "\n", nil
}

func (s *templateSet) execText(block string, v view) (string, error) {
	var b bytes.Buffer
	if err := s.text.ExecuteTemplate(&b, block, v); err != nil {
		return "", fmt.Errorf("notify: template %s: %w", s.name, err)
	}
	return b.String(), nil
}

// view is what templates see: Data's text fields trimmed, and everything
// locale- or zone-dependent already formatted. Templates get no time.Time,
// so none can print a time outside the branch's zone or with a Gregorian
// year in Thai.
type view struct {
	Locale        string // resolved: one of Locales
	AppointmentID string
	PatientName   string
	ServiceName   string
	BranchName    string
	BranchAddress string
	When          string // FormatDateTime of Start
	WhenShort     string // FormatShortDateTime of Start
	Lead          string // "in 24 hours"; empty when LeadTime is zero
	Fasting       int    // hours; 0 when no fasting is needed
	Instructions  string // the locale's preparation text, else another locale's
	Payment       string // "1,250.00 THB" / "1,250.00 บาท"; empty without an amount
}

func newView(d Data) view {
	locale := ResolveLocale(d.Locale)
	v := view{
		Locale:        locale,
		AppointmentID: strings.TrimSpace(d.AppointmentID),
		PatientName:   strings.TrimSpace(d.PatientName),
		ServiceName:   strings.TrimSpace(d.ServiceName),
		BranchName:    strings.TrimSpace(d.BranchName),
		BranchAddress: strings.TrimSpace(d.BranchAddress),
		When:          FormatDateTime(d.Start, d.Location, locale),
		WhenShort:     FormatShortDateTime(d.Start, d.Location, locale),
		Lead:          formatLead(d.LeadTime, locale),
		Instructions:  instructions(d.Preparation.Instructions, locale),
		Payment:       formatPayment(d.Amount, d.Currency, locale),
	}
	if d.Preparation.FastingHours > 0 {
		v.Fasting = d.Preparation.FastingHours
	}
	return v
}

// instructions picks the preparation text for locale. A service whose
// instructions were written in one language only still has them shown: the
// other language is better than nothing before a fasting blood test.
func instructions(m map[string]string, locale string) string {
	if s := strings.TrimSpace(m[locale]); s != "" {
		return s
	}
	for _, l := range Locales {
		if s := strings.TrimSpace(m[l]); s != "" {
			return s
		}
	}
	return ""
}

var plainAmount = regexp.MustCompile(`^(\d+)(\.\d+)?$`)

// formatPayment groups a plain decimal amount's thousands ("1250.00" →
// "1,250.00") and adds the currency, as "บาท" for baht in Thai. Anything that
// is not a plain decimal is shown as given.
func formatPayment(amount, currency, locale string) string {
	amount, currency = strings.TrimSpace(amount), strings.ToUpper(strings.TrimSpace(currency))
	if amount == "" {
		return ""
	}
	if m := plainAmount.FindStringSubmatch(amount); m != nil {
		whole := m[1]
		var b strings.Builder
		for i, r := range whole {
			if i > 0 && (len(whole)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(r)
		}
		amount = b.String() + m[2]
	}
	switch {
	case currency == "":
		return amount
	case currency == "THB" && locale == "th":
		return amount + " บาท"
	default:
		return amount + " " + currency
	}
}
