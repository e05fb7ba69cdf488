package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/domain"
)

// Stored form of the catalog: branch, opening hours, resource, service (see
// item.go for the format version). Each encode function is the one place
// that names the entity's attributes; its decode function reads formats 0
// and 1.

func branchItem(b domain.Branch) item {
	it := newItem(6)
	it.str("id", b.ID)
	it.str("name", b.Name)
	it.str("timeZone", b.TimeZone)
	it.num("slotMinutes", int64(b.SlotMinutes))
	it.optStr("address", b.Address)
	it.time("createdAt", b.CreatedAt)
	return it
}

func branchFrom(av map[string]types.AttributeValue) (domain.Branch, error) {
	r := newReader(av)
	r.checkFormat()
	b := domain.Branch{
		ID:          r.str("id"),
		Name:        r.str("name"),
		TimeZone:    r.str("timeZone"),
		SlotMinutes: r.int("slotMinutes"),
		Address:     r.str("address"),
		CreatedAt:   r.time("createdAt"),
	}
	return b, r.err()
}

func dayHoursAV(h domain.DayHours) types.AttributeValue {
	it := newItem(3)
	it.str("day", h.Day)
	it.str("open", h.Open)
	it.str("close", h.Close)
	return avM(it)
}

func dayHoursFrom(rs []reader) []domain.DayHours {
	if rs == nil {
		return nil
	}
	out := make([]domain.DayHours, len(rs))
	for i, r := range rs {
		out[i] = domain.DayHours{Day: r.str("day"), Open: r.str("open"), Close: r.str("close")}
	}
	return out
}

func hoursItem(h domain.Hours) item {
	it := newItem(2)
	it.list("weekly", h.Weekly == nil, len(h.Weekly), func(i int) types.AttributeValue { return dayHoursAV(h.Weekly[i]) })
	it.list("closures", h.Closures == nil, len(h.Closures), func(i int) types.AttributeValue {
		c := newItem(2)
		c.str("date", h.Closures[i].Date)
		c.optStr("reason", h.Closures[i].Reason)
		return avM(c)
	})
	return it
}

func hoursFrom(av map[string]types.AttributeValue) (domain.Hours, error) {
	r := newReader(av)
	r.checkFormat()
	h := domain.Hours{Weekly: dayHoursFrom(r.maps("weekly"))}
	if cs := r.maps("closures"); cs != nil {
		h.Closures = make([]domain.Closure, len(cs))
		for i, c := range cs {
			h.Closures[i] = domain.Closure{Date: c.str("date"), Reason: c.str("reason")}
		}
	}
	return h, r.err()
}

func resourceItem(res domain.Resource) item {
	it := newItem(7)
	it.str("id", res.ID)
	it.str("branchId", res.BranchID)
	it.str("name", res.Name)
	it.str("type", res.Type)
	it.boolean("active", res.Active)
	it.optList("hours", len(res.Hours), func(i int) types.AttributeValue { return dayHoursAV(res.Hours[i]) })
	it.time("createdAt", res.CreatedAt)
	return it
}

func resourceFrom(av map[string]types.AttributeValue) (domain.Resource, error) {
	r := newReader(av)
	r.checkFormat()
	res := domain.Resource{
		ID:        r.str("id"),
		BranchID:  r.str("branchId"),
		Name:      r.str("name"),
		Type:      r.str("type"),
		Active:    r.boolean("active"),
		Hours:     dayHoursFrom(r.maps("hours")),
		CreatedAt: r.time("createdAt"),
	}
	return res, r.err()
}

func preparationAV(p domain.Preparation) types.AttributeValue {
	it := newItem(2)
	it.num("fastingHours", int64(p.FastingHours))
	it.optStrMap("instructions", p.Instructions)
	return avM(it)
}

func preparationFrom(r reader) domain.Preparation {
	sub, _ := r.m("preparation")
	return domain.Preparation{FastingHours: sub.int("fastingHours"), Instructions: sub.strMap("instructions")}
}

func serviceItem(svc domain.Service) item {
	it := newItem(10)
	it.str("id", svc.ID)
	it.str("branchId", svc.BranchID)
	it.str("name", svc.Name)
	it.num("durationMinutes", int64(svc.DurationMinutes))
	it.list("requires", svc.Requires == nil, len(svc.Requires), func(i int) types.AttributeValue {
		q := newItem(2)
		q.str("type", svc.Requires[i].Type)
		q.num("count", int64(svc.Requires[i].Count))
		return avM(q)
	})
	it["preparation"] = preparationAV(svc.Preparation)
	it.num("minNoticeMinutes", int64(svc.MinNoticeMinutes))
	it.num("maxAdvanceDays", int64(svc.MaxAdvanceDays))
	it.num("cancelCutoffMinutes", int64(svc.CancelCutoffMinutes))
	it.time("createdAt", svc.CreatedAt)
	return it
}

func serviceFrom(av map[string]types.AttributeValue) (domain.Service, error) {
	r := newReader(av)
	r.checkFormat()
	svc := domain.Service{
		ID:                  r.str("id"),
		BranchID:            r.str("branchId"),
		Name:                r.str("name"),
		DurationMinutes:     r.int("durationMinutes"),
		Preparation:         preparationFrom(r),
		MinNoticeMinutes:    r.int("minNoticeMinutes"),
		MaxAdvanceDays:      r.int("maxAdvanceDays"),
		CancelCutoffMinutes: r.int("cancelCutoffMinutes"),
		CreatedAt:           r.time("createdAt"),
	}
	if qs := r.maps("requires"); qs != nil {
		svc.Requires = make([]domain.Requirement, len(qs))
		for i, q := range qs {
			svc.Requires[i] = domain.Requirement{Type: q.str("type"), Count: q.int("count")}
		}
	}
	return svc, r.err()
}
