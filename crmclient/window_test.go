package crmclient

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := LoadZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestCallingWindowOpenAt(t *testing.T) {
	tokyo, london := mustZone(t, "Asia/Tokyo"), mustZone(t, "Europe/London")
	day := func(loc *time.Location, h, m, s int) time.Time { return time.Date(2025, 6, 10, h, m, s, 0, loc) }
	std := CallingWindow{Start: "09:00", End: "21:00", TimeZone: "Asia/Tokyo"}
	night := CallingWindow{Start: "22:00", End: "02:00", TimeZone: "Asia/Tokyo"}
	evening := CallingWindow{Start: "18:00", End: "24:00", TimeZone: "Asia/Tokyo"}
	always := CallingWindow{Start: "00:00", End: "24:00", TimeZone: "Asia/Tokyo"}
	for _, tt := range []struct {
		w    CallingWindow
		at   time.Time
		lead string
		want bool
	}{
		{std, day(tokyo, 8, 59, 59), "", false},
		{std, day(tokyo, 9, 0, 0), "", true}, // Start is inclusive
		{std, day(tokyo, 20, 59, 59), "", true},
		{std, day(tokyo, 21, 0, 0), "", false},  // End is exclusive
		{std, day(london, 14, 0, 0), "", false}, // 22:00 in Tokyo
		{std, day(london, 1, 0, 0), "", true},   // 09:00 in Tokyo
		{std, day(london, 9, 0, 0), "Europe/London", true},
		{std, day(tokyo, 9, 0, 0), "Europe/London", false}, // 01:00 in London
		{night, day(tokyo, 21, 59, 0), "", false},
		{night, day(tokyo, 22, 0, 0), "", true},
		{night, day(tokyo, 23, 59, 0), "", true},
		{night, day(tokyo, 0, 0, 0), "", true},
		{night, day(tokyo, 1, 59, 59), "", true},
		{night, day(tokyo, 2, 0, 0), "", false},
		{night, day(tokyo, 12, 0, 0), "", false},
		{evening, day(tokyo, 17, 59, 0), "", false},
		{evening, day(tokyo, 18, 0, 0), "", true},
		{evening, day(tokyo, 23, 59, 59), "", true}, // "24:00" ends at midnight
		{evening, day(tokyo, 0, 0, 0), "", false},
		{always, day(tokyo, 0, 0, 0), "", true},
		{always, day(tokyo, 23, 59, 59), "", true},
	} {
		got, err := tt.w.OpenAt(tt.at, tt.lead)
		if err != nil || got != tt.want {
			t.Errorf("%s OpenAt(%s, %q) = %v, %v; want %v", tt.w, tt.at.Format(time.RFC3339), tt.lead, got, err, tt.want)
		}
	}
}

func TestCallingWindowRejects(t *testing.T) {
	at := time.Date(2025, 6, 10, 3, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		w    CallingWindow
		lead string
		says string
	}{
		{CallingWindow{}, "", `calling window ""–"" must be two different times HH:MM`},
		{CallingWindow{Start: "9:00", End: "21:00", TimeZone: "Asia/Tokyo"}, "", `"9:00"–"21:00" must be two different times`},
		{CallingWindow{Start: "09:00", End: "25:00", TimeZone: "Asia/Tokyo"}, "", "two different times HH:MM"},
		{CallingWindow{Start: "09:60", End: "21:00", TimeZone: "Asia/Tokyo"}, "", "two different times HH:MM"},
		{CallingWindow{Start: "24:01", End: "21:00", TimeZone: "Asia/Tokyo"}, "", "two different times HH:MM"},
		{CallingWindow{Start: "０9:00", End: "21:00", TimeZone: "Asia/Tokyo"}, "", "two different times HH:MM"},
		{CallingWindow{Start: "09:00", End: "09:00", TimeZone: "Asia/Tokyo"}, "", "two different times HH:MM"},
		{CallingWindow{Start: "24:00", End: "09:00", TimeZone: "Asia/Tokyo"}, "", "cannot start at 24:00; write 00:00"},
		{CallingWindow{Start: "09:00", End: "21:00"}, "", `time zone "" is not an IANA zone name such as Asia/Tokyo`},
		{CallingWindow{Start: "09:00", End: "21:00", TimeZone: "Local"}, "", `time zone "Local" is not an IANA zone`},
		{CallingWindow{Start: "09:00", End: "21:00", TimeZone: "Asia/Tokyo"}, "Mars/Olympus", `time zone "Mars/Olympus" is not an IANA zone`},
		{CallingWindow{Start: "09:00", End: "21:00", TimeZone: "Asia/Tokyo"}, "../../etc/passwd", `is not an IANA zone`},
	} {
		_, err := tt.w.OpenAt(at, tt.lead)
		if !errors.Is(err, ErrInvalidWindow) || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%+v OpenAt(lead %q): %v; want ErrInvalidWindow saying %q", tt.w, tt.lead, err, tt.says)
		}
		if _, err2 := tt.w.NextOpen(at, tt.lead); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("%+v NextOpen(lead %q): %v; want %v", tt.w, tt.lead, err2, err)
		}
		if tt.lead == "" && tt.w.Validate() == nil {
			t.Errorf("%+v Validate() = nil", tt.w)
		}
	}
	if err := (CallingWindow{Start: "18:00", End: "24:00", TimeZone: "Asia/Tokyo"}).Validate(); err != nil {
		t.Errorf("24:00 as End: %v", err)
	}
}

func TestCallingWindowNextOpen(t *testing.T) {
	tokyo, ny := mustZone(t, "Asia/Tokyo"), mustZone(t, "America/New_York")
	jst := func(d, h, m, s int) time.Time { return time.Date(2025, 6, d, h, m, s, 0, tokyo) }
	utc := func(mo time.Month, d, h, m int) time.Time { return time.Date(2025, mo, d, h, m, 0, 0, time.UTC) }
	std := CallingWindow{Start: "09:00", End: "21:00", TimeZone: "Asia/Tokyo"}
	stdNY := CallingWindow{Start: "09:00", End: "21:00", TimeZone: "America/New_York"}
	for _, tt := range []struct {
		name     string
		w        CallingWindow
		at       time.Time
		lead     string
		want     time.Time
		wantWall string // the window's clock at want, in the zone it is read in
	}{
		{"open: t itself", std, jst(10, 10, 0, 5), "", jst(10, 10, 0, 5), "10:00"},
		{"Tokyo evening: tomorrow 09:00", std, jst(10, 22, 30, 0), "", jst(11, 9, 0, 0), "09:00"},
		{"Tokyo just before: same day", std, jst(10, 8, 59, 30), "", jst(10, 9, 0, 0), "09:00"},
		{"Tokyo at End: tomorrow", std, jst(10, 21, 0, 0), "", jst(11, 9, 0, 0), "09:00"},
		{"Tokyo after midnight", std, jst(11, 0, 10, 0), "", jst(11, 9, 0, 0), "09:00"},
		{"over midnight, afternoon", CallingWindow{Start: "22:00", End: "02:00", TimeZone: "Asia/Tokyo"},
			jst(10, 3, 0, 0), "", jst(10, 22, 0, 0), "22:00"},
		{"24:00 End, small hours", CallingWindow{Start: "18:00", End: "24:00", TimeZone: "Asia/Tokyo"},
			jst(10, 0, 30, 0), "", jst(10, 18, 0, 0), "18:00"},
		{"lead in New York, Tokyo window", std, jst(10, 12, 0, 0), "America/New_York",
			time.Date(2025, 6, 10, 9, 0, 0, 0, ny), "09:00"},
		// 2025-03-09 02:00 EST → 03:00 EDT: 09:00 that Sunday is 13:00 UTC, not 14:00.
		{"New York, night before spring forward", stdNY, utc(3, 9, 3, 0), "", utc(3, 9, 13, 0), "09:00"},
		// A window starting at 02:30 on the spring-forward day opens when the
		// clock jumps from 01:59:59 EST to 03:00 EDT (07:00 UTC).
		{"New York, start skipped by the jump", CallingWindow{Start: "02:30", End: "05:00", TimeZone: "America/New_York"},
			utc(3, 9, 6, 0), "", utc(3, 9, 7, 0), "03:00"},
		// 2025-11-02 02:00 EDT → 01:00 EST: 09:00 that Sunday is 14:00 UTC.
		{"New York, night before fall back", stdNY, utc(11, 2, 2, 0), "", utc(11, 2, 14, 0), "09:00"},
		// At 01:45 EDT a 01:00–01:30 window is over, until the clock is turned
		// back to 01:00 EST at 06:00 UTC.
		{"New York, fall back into the window", CallingWindow{Start: "01:00", End: "01:30", TimeZone: "America/New_York"},
			utc(11, 2, 5, 45), "", utc(11, 2, 6, 0), "01:00"},
		{"New York lead, Tokyo window, across spring forward", std, utc(3, 9, 3, 0), "America/New_York",
			utc(3, 9, 13, 0), "09:00"},
	} {
		got, err := tt.w.NextOpen(tt.at, tt.lead)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%s: NextOpen(%s) = %s, %v; want %s", tt.name, tt.at.Format(time.RFC3339),
				got.Format(time.RFC3339), err, tt.want.Format(time.RFC3339))
			continue
		}
		loc := mustZone(t, tt.w.TimeZone)
		if tt.lead != "" {
			loc = mustZone(t, tt.lead)
		}
		if wall := got.In(loc).Format("15:04"); wall != tt.wantWall {
			t.Errorf("%s: opens at %s on the window's clock, want %s", tt.name, wall, tt.wantWall)
		}
	}
}

// TestNextOpenAgreesWithOpenAt checks NextOpen against a minute-by-minute walk
// of OpenAt, from every 37 minutes of days that include DST changes, for
// windows inside a day, over midnight and up to 24:00.
func TestNextOpenAgreesWithOpenAt(t *testing.T) {
	windows := []CallingWindow{
		{Start: "09:00", End: "21:00"}, {Start: "22:00", End: "02:00"}, {Start: "02:30", End: "05:00"},
		{Start: "01:00", End: "01:30"}, {Start: "18:00", End: "24:00"}, {Start: "00:30", End: "00:00"},
	}
	starts := []time.Time{
		time.Date(2025, 3, 8, 12, 0, 0, 0, time.UTC),   // New York springs forward on the 9th
		time.Date(2025, 10, 31, 12, 0, 0, 0, time.UTC), // and falls back on 2 November
		time.Date(2025, 3, 29, 12, 0, 0, 0, time.UTC),  // London springs forward on the 30th
		time.Date(2025, 4, 4, 12, 0, 0, 0, time.UTC),   // Lord Howe turns back half an hour on 6 April
		time.Date(2025, 10, 3, 12, 0, 0, 0, time.UTC),  // and forward on 5 October
	}
	for _, zone := range []string{"Asia/Tokyo", "America/New_York", "Europe/London", "Australia/Lord_Howe"} {
		for _, w := range windows {
			w.TimeZone = zone
			for _, from := range starts {
				for t0 := from; t0.Before(from.Add(60 * time.Hour)); t0 = t0.Add(37*time.Minute + 7*time.Second) {
					got, err := w.NextOpen(t0, "")
					if err != nil {
						t.Fatalf("%s NextOpen(%s): %v", w, t0, err)
					}
					want := walkToOpen(t, w, t0)
					if !got.Equal(want) {
						t.Fatalf("%s NextOpen(%s) = %s; a minute walk finds %s", w, t0.Format(time.RFC3339),
							got.Format(time.RFC3339), want.Format(time.RFC3339))
					}
				}
			}
		}
	}
}

// walkToOpen finds the window's next opening by trying t and then every whole
// minute after it (zone offsets are whole minutes, so the clock only changes
// its minute there).
func walkToOpen(t *testing.T, w CallingWindow, t0 time.Time) time.Time {
	t.Helper()
	for x, i := t0, 0; i < 3*24*60; i++ {
		if ok, _ := w.OpenAt(x, ""); ok {
			return x
		}
		x = x.Truncate(time.Minute).Add(time.Minute)
	}
	t.Fatalf("%s never opens after %s", w, t0)
	return time.Time{}
}

func BenchmarkNextOpen(b *testing.B) {
	w := CallingWindow{Start: "09:00", End: "21:00", TimeZone: "America/New_York"}
	at := time.Date(2025, 3, 8, 22, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.NextOpen(at, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzCallingWindow: windows come from campaign JSON sent over the network, so
// reading one never panics, and NextOpen's answer is never before t and always
// open.
func FuzzCallingWindow(f *testing.F) {
	f.Add("09:00", "21:00", "Asia/Tokyo", int64(1749546000))
	f.Add("22:00", "02:00", "America/New_York", int64(1741489200))
	f.Add("24:00", "24:00", "Local", int64(0))
	f.Add("9:0", "", "", int64(-1))
	f.Fuzz(func(t *testing.T, start, end, zone string, sec int64) {
		w := CallingWindow{Start: start, End: end, TimeZone: zone}
		at := time.Unix(sec%(400*365*86400), 0)
		open, err := w.OpenAt(at, "")
		next, err2 := w.NextOpen(at, "")
		if (err == nil) != (err2 == nil) {
			t.Fatalf("%s: OpenAt error %v, NextOpen error %v", w, err, err2)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidWindow) {
				t.Fatalf("%s: error %v does not wrap ErrInvalidWindow", w, err)
			}
			return
		}
		if next.Before(at) || open != next.Equal(at) {
			t.Fatalf("%s at %s: open %v, NextOpen %s", w, at, open, next)
		}
		if ok, _ := w.OpenAt(next, ""); !ok {
			t.Fatalf("%s: NextOpen(%s) = %s, which is closed", w, at, next)
		}
	})
}
