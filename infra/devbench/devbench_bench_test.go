package devbench

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/labchain/appointments/infra/benchab"
	"github.com/labchain/appointments/infra/dynamolocal"
)

// Fixed pair counts: `make bench` runs this package with -benchtime=1x, so
// every benchmark function runs once and these decide the work.
const (
	latencyPairs, latencyWarmUp = 9, 2 // pairs of latencyBatch calls each side
	latencyBatch                = 10
	ratePairs, rateWarmUp       = 7, 1
	rateRound, rateClients      = 96, 16
	hotPairs, hotWarmUp         = 3, 1
	hotBookers                  = 1000
)

// BenchmarkDevAvailability31DaysVsHealth: the p50 of a 31-day availability
// call through `make dev`'s gateway (patient token, 400 bookings in the
// range) against the p50 of GET /v1/health through the same gateway. Each
// side of a pair is the median of latencyBatch sequential calls. Goal
// (issue #11): A/B ≤ 3.
func BenchmarkDevAvailability31DaysVsHealth(b *testing.B) {
	p := devPlatform(b)
	br := newBranch(b, p, "Bench availability", 2)
	// 400 bookings over the 31 days, 13 per day on distinct slots (days 1..31).
	who := bookers(b, p, "avail", 400)
	var failed atomic.Int64
	parallel(len(who), rateClients, func(i int) {
		a, err := br.book(p, who[i], br.slot(1+i%31, i/31), "avail-"+strconv.Itoa(i))
		if err != nil || a.status != 201 {
			failed.Add(1)
			b.Errorf("booking %d: %v %d %s", i, err, a.status, a.body)
		}
	})
	if failed.Load() > 0 {
		b.FailNow()
	}
	tok := who[0].token
	path := fmt.Sprintf("/v1/availability?branchId=%s&serviceId=%s&from=%s&to=%s", br.id, br.service,
		br.day(1).Format("2006-01-02"), br.day(31).Format("2006-01-02"))
	median := func(method, path, token string) float64 {
		var ms []float64
		for range latencyBatch {
			a, err := send(p, method, path, token, nil)
			if err != nil || a.status != 200 {
				b.Fatalf("%s: %v %d %s", path, err, a.status, a.body)
			}
			ms = append(ms, float64(a.took)/float64(time.Millisecond))
		}
		return benchab.Median(ms)
	}
	b.StopTimer()
	f, base, r := benchab.Pairs(latencyPairs, latencyWarmUp,
		func(int) float64 { return median("GET", path, tok) },
		func(int) float64 { return median("GET", "/v1/health", "") })
	benchab.Report(b, benchab.Spec{Figure: "31-day availability via make dev gateway, p50", Baseline: "GET /v1/health via gateway, p50", Unit: "ms"}, f, base, r)
}

// BenchmarkDevBookingsVsBareTransactions: bookings per second through `make
// dev`'s gateway, 16 concurrent clients, each booking a free slot as its own
// patient, against bare 4-item conditional TransactWriteItems per second
// sent by 16 concurrent clients to the same DynamoDB Local (a table shaped
// like the application's, without its stream). Rounds of rateRound
// alternate. Goal (issue #11): A/B ≥ 0.3.
func BenchmarkDevBookingsVsBareTransactions(b *testing.B) {
	p := devPlatform(b)
	br := newBranch(b, p, "Bench throughput", 1)
	ctx := context.Background()
	db := dynamolocal.NewClient(p.DynamoEndpoint())
	table := bareTable(b, ctx, db)
	rounds := rateWarmUp + ratePairs
	who := bookers(b, p, "rate", rounds*rateRound)
	// One booking per slot (one station): no booking waits for another. 36
	// slots a day from day 2 on.
	booking := func(round int) float64 {
		base := round * rateRound
		took := parallel(rateRound, rateClients, func(i int) {
			k := base + i
			a, err := br.book(p, who[k], br.slot(2+k/36, k%36), "rate-"+strconv.Itoa(k))
			if err != nil || a.status != 201 {
				b.Errorf("booking %d: %v %d %s", k, err, a.status, a.body)
			}
		})
		return rateRound / took.Seconds()
	}
	var seq atomic.Int64
	bare := func(int) float64 {
		took := parallel(rateRound, rateClients, func(int) {
			n := seq.Add(1)
			if err := bareTransaction(ctx, db, table, n); err != nil {
				b.Errorf("bare transaction %d: %v", n, err)
			}
		})
		return rateRound / took.Seconds()
	}
	b.StopTimer()
	f, base, r := benchab.Pairs(ratePairs, rateWarmUp, booking, bare)
	benchab.Report(b, benchab.Spec{Figure: "bookings/s via make dev gateway, 16 clients", Baseline: "bare 4-item conditional TransactWriteItems/s, 16 clients", Unit: "ops/s"}, f, base, r)
}

// BenchmarkDevHotStart1000: 1,000 concurrent bookers of one start through
// `make dev`'s gateway (a branch with 2 stations): the p99 latency, against
// the p99 of 1,000 concurrent conditional Puts of one item to the same
// DynamoDB Local (the same race at the database, 1 winner). Every round
// checks the answers: exactly 2 × 201, 998 × 409 SLOT_UNAVAILABLE. Goal
// (issue #11): p99 ≤ 2 s.
func BenchmarkDevHotStart1000(b *testing.B) {
	p := devPlatform(b)
	br := newBranch(b, p, "Bench hot start", 2)
	ctx := context.Background()
	db := dynamolocal.NewClient(p.DynamoEndpoint())
	table := bareTable(b, ctx, db)
	who := bookers(b, p, "hot", hotBookers)
	race := func(round int) float64 {
		start := br.slot(3, 4*round) // a fresh hot start each round
		lat := make([]time.Duration, hotBookers)
		var created, full atomic.Int64
		parallel(hotBookers, hotBookers, func(i int) {
			a, err := br.book(p, who[i], start, fmt.Sprintf("hot-%d-%d", round, i))
			lat[i] = a.took
			switch {
			case err != nil:
				b.Errorf("booker %d: %v", i, err)
			case a.status == 201:
				created.Add(1)
			case a.status == 409 && a.code() == "SLOT_UNAVAILABLE":
				full.Add(1)
			default:
				b.Errorf("booker %d: %d %s", i, a.status, a.body)
			}
		})
		if created.Load() != int64(br.stations) || full.Load() != hotBookers-int64(br.stations) {
			b.Fatalf("round %d: 201 × %d, 409 × %d; want %d and %d", round, created.Load(), full.Load(), br.stations, hotBookers-br.stations)
		}
		return p99(lat)
	}
	bare := func(round int) float64 {
		lat := make([]time.Duration, hotBookers)
		var won atomic.Int64
		parallel(hotBookers, hotBookers, func(i int) {
			begin := time.Now()
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
				Item: map[string]types.AttributeValue{
					"PK": &types.AttributeValueMemberS{Value: "HOT#" + strconv.Itoa(round)}, "SK": &types.AttributeValueMemberS{Value: "CELL"},
					"who": &types.AttributeValueMemberS{Value: strconv.Itoa(i)}},
				ConditionExpression: aws.String("attribute_not_exists(PK)")})
			lat[i] = time.Since(begin)
			var ccf *types.ConditionalCheckFailedException
			switch {
			case err == nil:
				won.Add(1)
			case !asErr(err, &ccf):
				b.Errorf("bare put %d: %v", i, err)
			}
		})
		if won.Load() != 1 {
			b.Fatalf("bare race %d: %d winners", round, won.Load())
		}
		return p99(lat)
	}
	b.StopTimer()
	f, base, r := benchab.Pairs(hotPairs, hotWarmUp, race, bare)
	benchab.Report(b, benchab.Spec{Figure: "1,000 bookers of one start via gateway, p99", Baseline: "1,000 conditional Puts of one item, p99", Unit: "ms"}, f, base, r)
}

func p99(lat []time.Duration) float64 {
	s := append([]time.Duration(nil), lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[(len(s)*99+99)/100-1]) / float64(time.Millisecond)
}
