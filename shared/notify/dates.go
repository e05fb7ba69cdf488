package notify

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// buddhistEra is what Thai dates add to the Gregorian year: patients read
// 2569, not 2026.
const buddhistEra = 543

// thaiOffset is Thailand's UTC offset. Thai text names no zone when a time is
// at this offset, because that is what a Thai reader assumes.
const thaiOffset = 7 * 60 * 60

var (
	thaiWeekdays      = [7]string{"อาทิตย์", "จันทร์", "อังคาร", "พุธ", "พฤหัสบดี", "ศุกร์", "เสาร์"}
	thaiWeekdaysShort = [7]string{"อา.", "จ.", "อ.", "พ.", "พฤ.", "ศ.", "ส."}
	thaiMonths        = [12]string{"มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
		"กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม"}
	thaiMonthsShort = [12]string{"ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
		"ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."}
)

// FormatDate returns t's calendar date in loc, in the locale's long style:
// "วันพฤหัสบดีที่ 26 พฤศจิกายน 2569" (Buddhist-era year) for Thai,
// "Thursday, 26 November 2026" for English. locale goes through
// ResolveLocale. A nil loc keeps t's own location.
func FormatDate(t time.Time, loc *time.Location, locale string) string {
	t = inLocation(t, loc)
	if ResolveLocale(locale) == "en" {
		return t.Format("Monday, 2 January 2006")
	}
	return fmt.Sprintf("วัน%sที่ %d %s %d", thaiWeekdays[t.Weekday()], t.Day(),
		thaiMonths[t.Month()-1], t.Year()+buddhistEra)
}

// FormatTime returns t's clock time in loc on the 24-hour clock. English
// always names the UTC offset ("09:30 (GMT+7)") so a reader abroad cannot
// misread it; Thai ends with "น." and names the offset only when it is not
// Thailand's ("09:30 น.", "09:30 น. (GMT+8)"). A nil loc keeps t's own
// location.
func FormatTime(t time.Time, loc *time.Location, locale string) string {
	t = inLocation(t, loc)
	clock := t.Format("15:04")
	_, offset := t.Zone()
	if ResolveLocale(locale) == "en" {
		return clock + " (" + gmtOffset(offset) + ")"
	}
	if offset == thaiOffset {
		return clock + " น."
	}
	return clock + " น. (" + gmtOffset(offset) + ")"
}

// FormatDateTime returns FormatDate and FormatTime joined the locale's way:
// "วันพฤหัสบดีที่ 26 พฤศจิกายน 2569 เวลา 09:30 น." or
// "Thursday, 26 November 2026 at 09:30 (GMT+7)".
func FormatDateTime(t time.Time, loc *time.Location, locale string) string {
	if ResolveLocale(locale) == "en" {
		return FormatDate(t, loc, locale) + " at " + FormatTime(t, loc, locale)
	}
	return FormatDate(t, loc, locale) + " เวลา " + FormatTime(t, loc, locale)
}

// FormatShortDateTime is FormatDateTime with abbreviated weekday and month,
// for SMS, push notifications and subjects where space is short:
// "พฤ. 26 พ.ย. 2569 09:30 น." or "Thu 26 Nov 2026, 09:30 (GMT+7)". The year
// stays in full: a two-digit Buddhist-era year is easily misread.
func FormatShortDateTime(t time.Time, loc *time.Location, locale string) string {
	t = inLocation(t, loc)
	if ResolveLocale(locale) == "en" {
		return t.Format("Mon 2 Jan 2006, ") + FormatTime(t, nil, locale)
	}
	return fmt.Sprintf("%s %d %s %d %s", thaiWeekdaysShort[t.Weekday()], t.Day(),
		thaiMonthsShort[t.Month()-1], t.Year()+buddhistEra, FormatTime(t, nil, locale))
}

func inLocation(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		return t
	}
	return t.In(loc)
}

// gmtOffset writes a UTC offset in seconds as "GMT+7", "GMT+5:30", "GMT-3:30"
// or "GMT". Offsets are used rather than zone abbreviations because the tz
// database has none for most Asian zones (Asia/Bangkok's is "+07").
func gmtOffset(seconds int) string {
	if seconds == 0 {
		return "GMT"
	}
	sign := "+"
	if seconds < 0 {
		sign, seconds = "-", -seconds
	}
	s := "GMT" + sign + strconv.Itoa(seconds/3600)
	if m := seconds % 3600 / 60; m != 0 {
		s += fmt.Sprintf(":%02d", m)
	}
	return s
}

// formatLead says how far ahead a reminder is: "in 24 hours", "in 2 days",
// "in 1 hour 30 minutes" or the Thai "ในอีก …". It counts elapsed time rather
// than calendar days ("tomorrow") because a 24-hour reminder for an early
// visit can be sent on the same calendar day after a delay; the message
// states the date anyway. It returns "" for a zero or negative lead.
func formatLead(d time.Duration, locale string) string {
	d = d.Round(time.Minute)
	if d <= 0 {
		return ""
	}
	en := ResolveLocale(locale) == "en"
	unit := func(n int64, enOne, enMany, th string) string {
		switch {
		case !en:
			return fmt.Sprintf("%d %s", n, th)
		case n == 1:
			return "1 " + enOne
		default:
			return fmt.Sprintf("%d %s", n, enMany)
		}
	}
	const day = 24 * time.Hour
	var parts []string
	switch {
	case d >= 2*day && d%day == 0:
		parts = append(parts, unit(int64(d/day), "day", "days", "วัน"))
	case d >= time.Hour:
		parts = append(parts, unit(int64(d/time.Hour), "hour", "hours", "ชั่วโมง"))
		if m := int64(d % time.Hour / time.Minute); m != 0 {
			parts = append(parts, unit(m, "minute", "minutes", "นาที"))
		}
	default:
		parts = append(parts, unit(int64(d/time.Minute), "minute", "minutes", "นาที"))
	}
	if en {
		return "in " + strings.Join(parts, " ")
	}
	return "ในอีก " + strings.Join(parts, " ")
}
