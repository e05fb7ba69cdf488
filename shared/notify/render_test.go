package notify

import (
	"html"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/labchain/appointments/shared/domain"
)

// Fixture values are ASCII (except the Thai instruction) and distinct, so a
// test can tell the language of the template text itself and which field
// ended up where.
const (
	fxID      = "apt_01jd3x5t8v9w0y1z2a3b4c5d6e"
	fxPatient = "Somchai Jaidee"
	fxService = "Fasting Blood Sugar (FBS)"
	fxBranch  = "LabChain Silom"
	fxAddress = "123 Silom Road, Bang Rak, Bangkok 10500"
	fxInstrTH = "กรุณานำบัตรประชาชนมาด้วย"
	fxInstrEN = "Please bring your ID card."
)

// fxStart is 09:30 in Bangkok, given in UTC so that rendering has to convert.
var fxStart = time.Date(2026, 11, 26, 2, 30, 0, 0, time.UTC)

// fasting is the fasting sentence for 8 hours, per locale.
var fasting = map[string]string{
	"th": "งดอาหารและเครื่องดื่ม (ยกเว้นน้ำเปล่า) 8 ชั่วโมงก่อนเข้ารับบริการ",
	"en": "Do not eat or drink anything except plain water for 8 hours before your visit.",
}

// prepKinds show the preparation; the other kinds must not.
var prepKinds = []Kind{KindConfirmation, KindReschedule, KindReminder, KindCheckupInvitation}

func fullData(t testing.TB, k Kind, locale string) Data {
	return Data{
		Kind: k, Locale: locale, AppointmentID: fxID,
		PatientName: fxPatient, ServiceName: fxService,
		BranchName: fxBranch, BranchAddress: fxAddress,
		Start: fxStart, End: fxStart.Add(30 * time.Minute), Location: mustLoad(t, "Asia/Bangkok"),
		Preparation: domain.Preparation{FastingHours: 8, Instructions: map[string]string{"th": fxInstrTH, "en": fxInstrEN}},
		LeadTime:    24 * time.Hour,
		Amount:      "1250.00", Currency: "THB",
	}
}

func render(t testing.TB, d Data, ch Channel) Content {
	t.Helper()
	c, err := Render(d, ch)
	if err != nil {
		t.Fatalf("Render(%s, %s, %s): %v", d.Kind, d.Locale, ch, err)
	}
	return c
}

// parts names the non-empty parts of c, with HTML unescaped so that the
// same substring checks apply to it.
func parts(c Content) map[string]string {
	m := map[string]string{}
	if c.Subject != "" {
		m["subject"] = c.Subject
	}
	if c.Text != "" {
		m["text"] = c.Text
	}
	if c.HTML != "" {
		m["html"] = html.UnescapeString(c.HTML)
	}
	return m
}

func all(c Content) string { return c.Subject + "\n" + c.Text + "\n" + html.UnescapeString(c.HTML) }

func hasThai(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Thai, r) {
			return true
		}
	}
	return false
}

// checkShape checks that ch's parts are filled and the others empty.
func checkShape(t *testing.T, c Content, ch Channel) {
	t.Helper()
	want := map[Channel][3]bool{ // subject, text, html
		ChannelSMS:   {false, true, false},
		ChannelEmail: {true, true, true},
		ChannelPush:  {true, true, false},
	}[ch]
	got := [3]bool{c.Subject != "", c.Text != "", c.HTML != ""}
	if got != want {
		t.Errorf("filled parts (subject, text, html) = %v, want %v", got, want)
	}
}

var (
	emptyElement = regexp.MustCompile(`<(td|li|p|strong|h2)\b[^>]*>\s*</(td|li|p|strong|h2)>`)
	spaceBefore  = regexp.MustCompile(` [.,:]`)
)

// checkClean checks for the marks of an optional field rendered empty.
func checkClean(t *testing.T, c Content, ch Channel) {
	t.Helper()
	for name, s := range parts(c) {
		if strings.Contains(s, "<no value>") {
			t.Errorf("%s contains <no value>:\n%s", name, s)
		}
		if strings.Contains(s, "()") {
			t.Errorf("%s contains empty parentheses:\n%s", name, s)
		}
	}
	lines := []string{c.Subject}
	if ch != ChannelEmail {
		lines = append(lines, c.Text)
	}
	for _, l := range lines {
		if strings.Contains(l, "  ") || strings.TrimSpace(l) != l || strings.Contains(l, "\n") || spaceBefore.MatchString(l) {
			t.Errorf("one-line part is not clean: %q", l)
		}
	}
	if ch == ChannelEmail {
		// A label line (ending in ':') is only allowed to introduce a list.
		ls := strings.Split(c.Text, "\n")
		for i, l := range ls {
			if strings.HasSuffix(l, ":") && (i+1 == len(ls) || !strings.HasPrefix(ls[i+1], "- ")) {
				t.Errorf("email text has an empty label line %q:\n%s", l, c.Text)
			}
		}
		if strings.Contains(c.Text, "\n\n\n") {
			t.Errorf("email text has a run of blank lines:\n%s", c.Text)
		}
		if m := emptyElement.FindString(c.HTML); m != "" {
			t.Errorf("email html has an empty element %s", m)
		}
	}
}

func TestRenderFull(t *testing.T) {
	for _, k := range Kinds() {
		for _, l := range Locales {
			for _, ch := range Channels() {
				t.Run(string(k)+"/"+l+"/"+string(ch), func(t *testing.T) {
					t.Parallel()
					c := render(t, fullData(t, k, l), ch)
					checkShape(t, c, ch)
					checkClean(t, c, ch)
					whole := all(c)

					for name, s := range parts(c) {
						if l == "th" && !hasThai(s) {
							t.Errorf("th %s has no Thai script: %q", name, s)
						}
						if l == "en" && hasThai(s) {
							t.Errorf("en %s has Thai script: %q", name, s)
						}
					}

					years := map[string][2]string{"th": {"2569", "2026"}, "en": {"2026", "2569"}}[l]
					year, otherYear := years[0], years[1]
					if !strings.Contains(whole, year) || strings.Contains(whole, otherYear) {
						t.Errorf("want year %s and not %s in:\n%s", year, otherYear, whole)
					}
					if !strings.Contains(whole, "09:30") || strings.Contains(whole, "02:30") {
						t.Errorf("want the branch time 09:30, not UTC 02:30, in:\n%s", whole)
					}

					wantPrep := slices.Contains(prepKinds, k)
					if got := strings.Contains(whole, fasting[l]); got != wantPrep {
						t.Errorf("fasting sentence shown = %v, want %v:\n%s", got, wantPrep, whole)
					}
					instr := map[string]string{"th": fxInstrTH, "en": fxInstrEN}[l]
					if ch == ChannelEmail {
						for name, s := range parts(c) {
							if name == "subject" {
								continue
							}
							if got := strings.Contains(s, instr); got != wantPrep {
								t.Errorf("email %s: instructions shown = %v, want %v", name, got, wantPrep)
							}
							for _, v := range []string{fxBranch, fxAddress, fxService, fxID, fxPatient} {
								if !strings.Contains(s, v) {
									t.Errorf("email %s lacks %q:\n%s", name, v, s)
								}
							}
						}
					}
					if ch == ChannelSMS {
						for _, v := range []string{fxBranch, fxID} {
							if !strings.Contains(c.Text, v) {
								t.Errorf("sms lacks %q: %q", v, c.Text)
							}
						}
					}

					if k == KindReminder {
						lead := map[string]string{"th": "ในอีก 24 ชั่วโมง", "en": "in 24 hours"}[l]
						body := c.Text
						if ch == ChannelEmail {
							body += html.UnescapeString(c.HTML)
						}
						if strings.Count(body, lead) < map[Channel]int{ChannelSMS: 1, ChannelEmail: 2, ChannelPush: 1}[ch] {
							t.Errorf("reminder does not say %q in every body:\n%s", lead, whole)
						}
					}
					if k == KindPaymentConfirmation && ch != ChannelPush {
						amount := map[string]string{"th": "1,250.00 บาท", "en": "1,250.00 THB"}[l]
						if !strings.Contains(c.Text, amount) {
							t.Errorf("payment text lacks %q:\n%s", amount, c.Text)
						}
					}
				})
			}
		}
	}
}

// TestRenderLockScreenPrivacy enforces the rule for what may show on a
// locked phone: an SMS, a push notification and an email subject carry no
// patient name, service name, address or free-text instructions (they can
// name a test). Push, the most exposed, also omits branch, reference and
// amount.
func TestRenderLockScreenPrivacy(t *testing.T) {
	never := []string{fxPatient, fxService, fxAddress, fxInstrTH, fxInstrEN}
	for _, k := range Kinds() {
		for _, l := range Locales {
			d := fullData(t, k, l)
			sms := render(t, d, ChannelSMS).Text
			push := render(t, d, ChannelPush)
			subject := render(t, d, ChannelEmail).Subject
			exposed := map[string]string{"sms": sms, "push title": push.Subject, "push body": push.Text, "email subject": subject}
			for name, s := range exposed {
				for _, v := range never {
					if strings.Contains(s, v) {
						t.Errorf("%s %s %s shows %q: %q", k, l, name, v, s)
					}
				}
			}
			for _, v := range []string{fxBranch, fxID, "1,250"} {
				if strings.Contains(push.Subject+" "+push.Text, v) {
					t.Errorf("%s %s push shows %q: %q / %q", k, l, v, push.Subject, push.Text)
				}
			}
		}
	}
}

// TestRenderMinimal renders every combination with only the required fields:
// nothing optional may leave a label, a dangling word or "<no value>".
func TestRenderMinimal(t *testing.T) {
	labels := map[string][]string{
		"th": {"บริการ:", "สาขา:", "ที่อยู่", "รหัสนัดหมาย", "การเตรียมตัว", "งดอาหาร", ">บริการ<", ">สาขา<"},
		"en": {"Service", "Branch:", "Address", "Reference", "Ref:", "Before your visit", "Do not eat", ">Branch<", " at ", "payment of", "appointment in"},
	}
	for _, k := range Kinds() {
		for _, l := range Locales {
			for _, ch := range Channels() {
				t.Run(string(k)+"/"+l+"/"+string(ch), func(t *testing.T) {
					c := render(t, Data{Kind: k, Locale: l, Start: fxStart, Location: mustLoad(t, "Asia/Bangkok")}, ch)
					checkShape(t, c, ch)
					checkClean(t, c, ch)
					// " at " is how English names the branch, except in the long
					// date ("... 2026 at 09:30").
					whole := strings.ReplaceAll(all(c), FormatDateTime(fxStart, mustLoad(t, "Asia/Bangkok"), "en"), "")
					for _, s := range labels[l] {
						if strings.Contains(whole, s) {
							t.Errorf("minimal data shows %q:\n%s", s, whole)
						}
					}
				})
			}
		}
	}
}

func TestRenderLeadTime(t *testing.T) {
	for l, want := range map[string]string{"th": "ในอีก 2 ชั่วโมง", "en": "in 2 hours"} {
		d := fullData(t, KindReminder, l)
		d.LeadTime = 2 * time.Hour
		for _, ch := range Channels() {
			if c := render(t, d, ch); !strings.Contains(c.Text, want) {
				t.Errorf("%s %s: %q not in %q", l, ch, want, c.Text)
			}
		}
	}
}

func TestRenderPaymentWithoutAmount(t *testing.T) {
	for _, l := range Locales {
		d := fullData(t, KindPaymentConfirmation, l)
		d.Amount, d.Currency = "", ""
		for _, ch := range Channels() {
			c := render(t, d, ch)
			if s := all(c); strings.Contains(s, "THB") || strings.Contains(s, "บาท") || strings.Contains(s, "payment of") {
				t.Errorf("%s %s shows an amount:\n%s", l, ch, s)
			}
		}
	}
}

func TestRenderPreparation(t *testing.T) {
	tests := []struct {
		name         string
		locale       string
		prep         domain.Preparation
		want, absent []string
	}{
		{"en falls back to Thai instructions", "en",
			domain.Preparation{Instructions: map[string]string{"th": fxInstrTH}}, []string{fxInstrTH, "Before your visit"}, []string{"Do not eat"}},
		{"th falls back to English instructions", "th",
			domain.Preparation{Instructions: map[string]string{"en": fxInstrEN}}, []string{fxInstrEN, "การเตรียมตัว"}, []string{"งดอาหาร"}},
		{"blank instruction counts as missing", "en",
			domain.Preparation{Instructions: map[string]string{"en": "  ", "th": fxInstrTH}}, []string{fxInstrTH}, nil},
		{"fasting only", "en",
			domain.Preparation{FastingHours: 12}, []string{"for 12 hours before"}, []string{fxInstrEN, fxInstrTH}},
		{"one hour is singular", "en",
			domain.Preparation{FastingHours: 1}, []string{"for 1 hour before"}, []string{"1 hours"}},
		{"no preparation", "en",
			domain.Preparation{FastingHours: 0}, nil, []string{"Before your visit", "Do not eat"}},
		{"no preparation th", "th",
			domain.Preparation{}, nil, []string{"การเตรียมตัว", "งดอาหาร"}},
		{"negative fasting is none", "th",
			domain.Preparation{FastingHours: -3}, nil, []string{"งดอาหาร"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := fullData(t, KindConfirmation, tt.locale)
			d.Preparation = tt.prep
			c := render(t, d, ChannelEmail)
			for name, s := range parts(c) {
				if name == "subject" {
					continue
				}
				for _, w := range tt.want {
					if !strings.Contains(s, w) {
						t.Errorf("%s lacks %q:\n%s", name, w, s)
					}
				}
				for _, a := range tt.absent {
					if strings.Contains(s, a) {
						t.Errorf("%s shows %q:\n%s", name, a, s)
					}
				}
			}
		})
	}
}

func TestRenderEscaping(t *testing.T) {
	d := fullData(t, KindConfirmation, "en")
	d.BranchName = `Silom <script>alert(1)</script>`
	d.PatientName = `O'Brien & Sons`
	email := render(t, d, ChannelEmail)
	if strings.Contains(email.HTML, "<script>") || !strings.Contains(email.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("branch name not escaped in email html:\n%s", email.HTML)
	}
	if strings.Contains(email.HTML, `O'Brien & Sons`) || !strings.Contains(email.HTML, "O&#39;Brien &amp; Sons") {
		t.Errorf("patient name not escaped in email html:\n%s", email.HTML)
	}
	// Plain-text parts go through text/template: escaping them would show
	// entities to the patient.
	if !strings.Contains(email.Text, `O'Brien & Sons`) || !strings.Contains(email.Text, d.BranchName) {
		t.Errorf("email text is escaped:\n%s", email.Text)
	}
	if sms := render(t, d, ChannelSMS).Text; !strings.Contains(sms, d.BranchName) {
		t.Errorf("sms is escaped: %q", sms)
	}
}

func TestRenderLocale(t *testing.T) {
	for in, thai := range map[string]bool{"th": true, "th-TH": true, "": true, "fr": true, "en-US": false, "EN": false, "en_GB": false} {
		d := fullData(t, KindConfirmation, "")
		d.Locale = in
		if got := hasThai(render(t, d, ChannelPush).Text); got != thai {
			t.Errorf("locale %q: Thai text = %v, want %v", in, got, thai)
		}
	}
}

func TestRenderZone(t *testing.T) {
	// Without Location the time is shown in Start's own zone.
	d := fullData(t, KindReminder, "th")
	d.Location = nil
	d.Start = time.Date(2026, 11, 26, 9, 30, 0, 0, time.FixedZone("", 7*3600))
	if c := render(t, d, ChannelSMS); !strings.Contains(c.Text, "09:30 น.") || strings.Contains(c.Text, "GMT") {
		t.Errorf("nil location: %q", c.Text)
	}
	// A branch in a zone with daylight saving shows the summer offset.
	d = fullData(t, KindReminder, "en")
	d.Location = mustLoad(t, "Europe/London")
	d.Start = time.Date(2026, 7, 1, 8, 30, 0, 0, time.UTC)
	if c := render(t, d, ChannelSMS); !strings.Contains(c.Text, "09:30 (GMT+1)") {
		t.Errorf("London in summer: %q", c.Text)
	}
}

func TestRenderErrors(t *testing.T) {
	ok := fullData(t, KindConfirmation, "th")
	unknownKind := ok
	unknownKind.Kind = "birthday"
	noStart := ok
	noStart.Start = time.Time{}
	for name, c := range map[string]struct {
		d  Data
		ch Channel
	}{
		"unknown kind":    {unknownKind, ChannelSMS},
		"unknown channel": {ok, "fax"},
		"no start":        {noStart, ChannelEmail},
	} {
		if _, err := Render(c.d, c.ch); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// smsSegments counts the parts an SMS is sent in: GSM-7 when every character
// is in the GSM 03.38 alphabet (160 characters, 153 per part when
// concatenated; extension characters count twice), UCS-2 otherwise (70, 67
// per part, counted in UTF-16 units), which is always the case for Thai.
func smsSegments(s string) (segments int, gsm7 bool) {
	const basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	const extension = "^{}\\[~]|€\f"
	units, gsm7 := 0, true
	for _, r := range s {
		switch {
		case strings.ContainsRune(basic, r):
			units++
		case strings.ContainsRune(extension, r):
			units += 2
		default:
			gsm7 = false
		}
	}
	single, part := 160, 153
	if !gsm7 {
		units, single, part = len(utf16.Encode([]rune(s))), 70, 67
	}
	if units <= single {
		return 1, gsm7
	}
	return (units + part - 1) / part, gsm7
}

func TestSMSSegments(t *testing.T) {
	tests := []struct {
		s        string
		segments int
		gsm7     bool
	}{
		{strings.Repeat("a", 160), 1, true},
		{strings.Repeat("a", 161), 2, true},
		{strings.Repeat("a", 459), 3, true},
		{strings.Repeat("a", 460), 4, true},
		{strings.Repeat("€", 80), 1, true},
		{strings.Repeat("€", 81), 2, true},
		{strings.Repeat("ก", 70), 1, false},
		{strings.Repeat("ก", 71), 2, false},
		{strings.Repeat("ก", 201), 3, false},
		{strings.Repeat("ก", 202), 4, false},
		{strings.Repeat("a", 100) + "–", 2, false}, // an en dash turns the whole message into UCS-2
	}
	for _, tt := range tests {
		if n, gsm := smsSegments(tt.s); n != tt.segments || gsm != tt.gsm7 {
			t.Errorf("smsSegments(%d runes of %q) = %d, %v; want %d, %v", utf8.RuneCountInString(tt.s), tt.s[:3], n, gsm, tt.segments, tt.gsm7)
		}
	}
}

// TestRenderLengths keeps an SMS within 3 parts (201 Thai characters, 459
// GSM-7 characters) and a push notification within what a lock screen shows,
// with long but realistic names; an English SMS must stay GSM-7, which a
// single typographic character would break (tripling its cost).
func TestRenderLengths(t *testing.T) {
	const maxSegments, maxPushTitle, maxPushBody = 3, 40, 178
	for _, k := range Kinds() {
		for _, l := range Locales {
			d := fullData(t, k, l)
			d.AppointmentID = "apt_01jd3x5t8v9w0y1z2a3b4c5d6e"
			d.Preparation.FastingHours = 12
			d.Amount = "125000.00"
			if l == "th" {
				d.BranchName = "แล็บเชน สาขาเซ็นทรัลพระราม 9"
			} else {
				d.BranchName = "LabChain Central Rama 9 Branch"
			}
			sms := render(t, d, ChannelSMS).Text
			n, gsm7 := smsSegments(sms)
			if n > maxSegments {
				t.Errorf("%s %s sms is %d parts (%d runes): %q", k, l, n, utf8.RuneCountInString(sms), sms)
			}
			if l == "en" && !gsm7 {
				t.Errorf("%s en sms is not GSM-7: %q", k, sms)
			}
			push := render(t, d, ChannelPush)
			if utf8.RuneCountInString(push.Subject) > maxPushTitle || utf8.RuneCountInString(push.Text) > maxPushBody {
				t.Errorf("%s %s push too long: %q / %q", k, l, push.Subject, push.Text)
			}
		}
	}
}

// TestTemplateFiles checks the templates directory against Kinds and
// Locales: every kind has a file per locale and there is nothing else (a
// misspelt or leftover file would be silently unused).
func TestTemplateFiles(t *testing.T) {
	want := []string{"README.md"}
	for _, l := range Locales {
		want = append(want, "common."+l+".tmpl")
		for _, k := range Kinds() {
			want = append(want, string(k)+"."+l+".tmpl")
		}
	}
	slices.Sort(want)
	entries, err := os.ReadDir("templates")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	for _, name := range got {
		if !slices.Contains(want, name) {
			t.Errorf("stray file templates/%s", name)
		}
	}
	for _, name := range want {
		if !slices.Contains(got, name) {
			t.Errorf("missing templates/%s", name)
		}
	}
	embeddedNames, err := fs.Glob(embedded, "templates/*")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(want) - 1; len(embeddedNames) != n {
		t.Errorf("%d files embedded, want %d: %v", len(embeddedNames), n, embeddedNames)
	}
}

// validFS is a minimal complete template set, so that each case of
// TestNewRendererRejects breaks exactly one thing.
func validFS() fstest.MapFS {
	m := fstest.MapFS{"README.md": {Data: []byte("not a template {{")}}
	for _, l := range Locales {
		m["common."+l+".tmpl"] = &fstest.MapFile{Data: []byte(`{{define "when"}}{{.WhenShort}}{{end}}`)}
		for _, k := range Kinds() {
			m[string(k)+"."+l+".tmpl"] = &fstest.MapFile{Data: []byte(
				`{{define "sms"}}sms {{template "when" .}}{{end}}` +
					`{{define "email.subject"}}subject{{end}}` +
					`{{define "email.text"}}text {{.BranchName}}{{end}}` +
					`{{define "email.html"}}<p title="{{.BranchName}}">{{.BranchName}}</p>{{end}}` +
					`{{define "push.title"}}title{{end}}` +
					`{{define "push.body"}}body{{end}}`)}
		}
	}
	return m
}

func TestNewRendererRejects(t *testing.T) {
	if _, err := NewRenderer(validFS()); err != nil {
		t.Fatalf("valid set rejected: %v", err)
	}
	replace := func(file, old, new string) func(fstest.MapFS) {
		return func(m fstest.MapFS) {
			m[file] = &fstest.MapFile{Data: []byte(strings.Replace(string(m[file].Data), old, new, 1))}
		}
	}
	tests := []struct {
		name   string
		break_ func(fstest.MapFS)
		want   string // in the error
	}{
		{"syntax error", replace("confirmation.th.tmpl", "{{end}}", "{{if}}{{end}}"), "confirmation.th.tmpl"},
		{"unclosed action", replace("reminder.en.tmpl", "{{.BranchName}}", "{{.BranchName"), "reminder.en.tmpl"},
		{"syntax error in common", replace("common.en.tmpl", "{{end}}", "{{else}}"), "common.en.tmpl"},
		{"missing block", replace("reminder.en.tmpl", `"push.body"`, `"push.bdy"`), `"push.body"`},
		{"unknown field", replace("cancellation.en.tmpl", "{{.BranchName}}", "{{.Branch}}"), "cancellation.en.tmpl"},
		{"undefined template", replace("results_ready.th.tmpl", `{{template "when" .}}`, `{{template "whn" .}}`), "results_ready.th.tmpl"},
		{"html escaping error", replace("payment_confirmation.en.tmpl", `title="{{.BranchName}}"`, `title="{{.BranchName}}`), "payment_confirmation.en.tmpl"},
		{"block renders empty", replace("reschedule.th.tmpl", "}}body{{", "}}{{.PatientName}}{{"), `"push.body" rendered empty`},
		{"missing file", func(m fstest.MapFS) { delete(m, "checkup_invitation.th.tmpl") }, "checkup_invitation.th.tmpl: missing"},
		{"missing common file", func(m fstest.MapFS) { delete(m, "common.th.tmpl") }, "common.th.tmpl: missing"},
		{"stray file", func(m fstest.MapFS) { m["confirmaton.th.tmpl"] = m["confirmation.th.tmpl"] }, "confirmaton.th.tmpl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validFS()
			tt.break_(m)
			_, err := NewRenderer(m)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestFormatPayment(t *testing.T) {
	tests := []struct{ amount, currency, locale, want string }{
		{"1250.00", "THB", "en", "1,250.00 THB"},
		{"1250.00", "thb", "th", "1,250.00 บาท"},
		{"1250.00", "USD", "th", "1,250.00 USD"},
		{"1250000.5", "THB", "en", "1,250,000.5 THB"},
		{"999.00", "THB", "en", "999.00 THB"},
		{"1000", "", "en", "1,000"},
		{"1,250.00", "THB", "en", "1,250.00 THB"}, // not a plain decimal: as given
		{"", "THB", "en", ""},
	}
	for _, tt := range tests {
		if got := formatPayment(tt.amount, tt.currency, tt.locale); got != tt.want {
			t.Errorf("formatPayment(%q, %q, %q) = %q, want %q", tt.amount, tt.currency, tt.locale, got, tt.want)
		}
	}
}
