package notify

import (
	"testing"
	"time"
	_ "time/tzdata" // the tests name zones; do not depend on the host's tz database
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestFormatDateTime(t *testing.T) {
	bkk := mustLoad(t, "Asia/Bangkok")
	ny := mustLoad(t, "America/New_York")
	london := mustLoad(t, "Europe/London")
	utc := func(y int, mo time.Month, d, h, mi int) time.Time { return time.Date(y, mo, d, h, mi, 0, 0, time.UTC) }
	tests := []struct {
		name   string
		t      time.Time
		loc    *time.Location
		locale string
		want   string
	}{
		{"th Bangkok", utc(2026, 11, 26, 2, 30), bkk, "th", "วันพฤหัสบดีที่ 26 พฤศจิกายน 2569 เวลา 09:30 น."},
		{"en Bangkok", utc(2026, 11, 26, 2, 30), bkk, "en", "Thursday, 26 November 2026 at 09:30 (GMT+7)"},
		{"th mid-year month and weekday", utc(2026, 5, 5, 1, 0), bkk, "th", "วันอังคารที่ 5 พฤษภาคม 2569 เวลา 08:00 น."},

		// 23:30 on New Year's Eve in Bangkok is the same date in UTC ...
		{"th 31 Dec Bangkok", utc(2026, 12, 31, 16, 30), bkk, "th", "วันพฤหัสบดีที่ 31 ธันวาคม 2569 เวลา 23:30 น."},
		{"th 31 Dec UTC", utc(2026, 12, 31, 16, 30), time.UTC, "th", "วันพฤหัสบดีที่ 31 ธันวาคม 2569 เวลา 16:30 น. (GMT)"},
		// ... an hour later Bangkok is in the next Buddhist-era year, UTC is not.
		{"th new year Bangkok", utc(2026, 12, 31, 17, 30), bkk, "th", "วันศุกร์ที่ 1 มกราคม 2570 เวลา 00:30 น."},
		{"th new year UTC", utc(2026, 12, 31, 17, 30), time.UTC, "th", "วันพฤหัสบดีที่ 31 ธันวาคม 2569 เวลา 17:30 น. (GMT)"},
		{"en new year Bangkok", utc(2026, 12, 31, 17, 30), bkk, "en", "Friday, 1 January 2027 at 00:30 (GMT+7)"},
		{"en new year UTC", utc(2026, 12, 31, 17, 30), time.UTC, "en", "Thursday, 31 December 2026 at 17:30 (GMT)"},

		// Daylight saving: the offset shown is the one in force at that instant.
		{"en New York summer", utc(2026, 7, 15, 14, 0), ny, "en", "Wednesday, 15 July 2026 at 10:00 (GMT-4)"},
		{"en New York winter", utc(2026, 12, 15, 15, 0), ny, "en", "Tuesday, 15 December 2026 at 10:00 (GMT-5)"},
		{"en London before the change", utc(2026, 3, 29, 0, 30), london, "en", "Sunday, 29 March 2026 at 00:30 (GMT)"},
		{"en London after the change", utc(2026, 3, 29, 1, 30), london, "en", "Sunday, 29 March 2026 at 02:30 (GMT+1)"},
		{"th London after the change", utc(2026, 3, 29, 1, 30), london, "th", "วันอาทิตย์ที่ 29 มีนาคม 2569 เวลา 02:30 น. (GMT+1)"},

		{"en half-hour offset", utc(2026, 11, 26, 4, 0), mustLoad(t, "Asia/Kolkata"), "en", "Thursday, 26 November 2026 at 09:30 (GMT+5:30)"},
		{"en negative half-hour offset", utc(2026, 11, 26, 13, 0), mustLoad(t, "America/St_Johns"), "en", "Thursday, 26 November 2026 at 09:30 (GMT-3:30)"},
		{"th other zone", utc(2026, 11, 26, 0, 30), mustLoad(t, "Asia/Tokyo"), "th", "วันพฤหัสบดีที่ 26 พฤศจิกายน 2569 เวลา 09:30 น. (GMT+9)"},

		{"nil location keeps the time's own", time.Date(2026, 11, 26, 9, 30, 0, 0, time.FixedZone("", 7*3600)), nil, "th", "วันพฤหัสบดีที่ 26 พฤศจิกายน 2569 เวลา 09:30 น."},
		{"locale by base language", utc(2026, 11, 26, 2, 30), bkk, "EN-us", "Thursday, 26 November 2026 at 09:30 (GMT+7)"},
		{"unknown locale is Thai", utc(2026, 11, 26, 2, 30), bkk, "fr", "วันพฤหัสบดีที่ 26 พฤศจิกายน 2569 เวลา 09:30 น."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatDateTime(tt.t, tt.loc, tt.locale); got != tt.want {
				t.Errorf("FormatDateTime = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatDateAndTime(t *testing.T) {
	bkk := mustLoad(t, "Asia/Bangkok")
	at := time.Date(2026, 11, 26, 2, 30, 0, 0, time.UTC)
	for _, c := range []struct{ got, want string }{
		{FormatDate(at, bkk, "th"), "วันพฤหัสบดีที่ 26 พฤศจิกายน 2569"},
		{FormatDate(at, bkk, "en"), "Thursday, 26 November 2026"},
		{FormatTime(at, bkk, "th"), "09:30 น."},
		{FormatTime(at, bkk, "en"), "09:30 (GMT+7)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestFormatShortDateTime(t *testing.T) {
	bkk := mustLoad(t, "Asia/Bangkok")
	tests := []struct {
		t      time.Time
		locale string
		want   string
	}{
		{time.Date(2026, 11, 26, 2, 30, 0, 0, time.UTC), "th", "พฤ. 26 พ.ย. 2569 09:30 น."},
		{time.Date(2026, 11, 26, 2, 30, 0, 0, time.UTC), "en", "Thu 26 Nov 2026, 09:30 (GMT+7)"},
		{time.Date(2026, 12, 31, 17, 30, 0, 0, time.UTC), "th", "ศ. 1 ม.ค. 2570 00:30 น."},
		{time.Date(2026, 12, 31, 17, 30, 0, 0, time.UTC), "en", "Fri 1 Jan 2027, 00:30 (GMT+7)"},
	}
	for _, tt := range tests {
		if got := FormatShortDateTime(tt.t, bkk, tt.locale); got != tt.want {
			t.Errorf("FormatShortDateTime(%v, %s) = %q, want %q", tt.t, tt.locale, got, tt.want)
		}
	}
}

func TestFormatLead(t *testing.T) {
	tests := []struct {
		d      time.Duration
		en, th string
	}{
		{24 * time.Hour, "in 24 hours", "ในอีก 24 ชั่วโมง"},
		{2 * time.Hour, "in 2 hours", "ในอีก 2 ชั่วโมง"},
		{time.Hour, "in 1 hour", "ในอีก 1 ชั่วโมง"},
		{90 * time.Minute, "in 1 hour 30 minutes", "ในอีก 1 ชั่วโมง 30 นาที"},
		{61 * time.Minute, "in 1 hour 1 minute", "ในอีก 1 ชั่วโมง 1 นาที"},
		{30 * time.Minute, "in 30 minutes", "ในอีก 30 นาที"},
		{59 * time.Second, "in 1 minute", "ในอีก 1 นาที"},
		{25 * time.Hour, "in 25 hours", "ในอีก 25 ชั่วโมง"},
		{48 * time.Hour, "in 2 days", "ในอีก 2 วัน"},
		{49 * time.Hour, "in 49 hours", "ในอีก 49 ชั่วโมง"},
		{0, "", ""},
		{-time.Hour, "", ""},
	}
	for _, tt := range tests {
		if got := formatLead(tt.d, "en"); got != tt.en {
			t.Errorf("formatLead(%v, en) = %q, want %q", tt.d, got, tt.en)
		}
		if got := formatLead(tt.d, "th"); got != tt.th {
			t.Errorf("formatLead(%v, th) = %q, want %q", tt.d, got, tt.th)
		}
	}
}

func TestResolveLocale(t *testing.T) {
	for in, want := range map[string]string{
		"th": "th", "th-TH": "th", "TH": "th", " th_TH ": "th",
		"en": "en", "en-US": "en", "EN": "en", "en_GB": "en", "En-au": "en",
		"": DefaultLocale, "fr": DefaultLocale, "eng": DefaultLocale, "-en": DefaultLocale,
	} {
		if got := ResolveLocale(in); got != want {
			t.Errorf("ResolveLocale(%q) = %q, want %q", in, got, want)
		}
	}
}
