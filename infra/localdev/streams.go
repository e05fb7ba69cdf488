package localdev

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/labchain/appointments/infra/streamevent"
)

// newStreamsClient returns a DynamoDB Streams client for DynamoDB Local.
func newStreamsClient(endpoint string) *dynamodbstreams.Client {
	return dynamodbstreams.New(dynamodbstreams.Options{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

// streamMapping runs one DynamoDB stream event source mapping the way Lambda
// does: one reader per shard (a child shard only once its parent is read to
// its end), records in shard order, batches of up to BatchSize records
// (gathered within MaximumBatchingWindowInSeconds) that match the
// FilterCriteria (others are skipped), one synchronous invocation at a time
// per shard. Then:
//
//   - success: the checkpoint moves past the batch;
//   - success with ReportBatchItemFailures listing sequence numbers: the
//     checkpoint moves to the lowest one and the records from there are
//     retried (an empty, missing or unknown itemIdentifier fails the whole
//     batch);
//   - function error or timeout: the batch is retried with exponential
//     backoff, split in two first when BisectBatchOnFunctionError is on
//     (halves keep the failure count of their batch);
//   - after MaximumRetryAttempts failed retries (or once a record is older
//     than MaximumRecordAgeInSeconds) the records are skipped, with a log line.
type streamMapping struct {
	src    *streamSource
	arn    string
	client *dynamodbstreams.Client
	fn     *function
	log    io.Writer
	logf   func(format string, args ...any)
	// backoff is the first retry delay; it doubles up to maxBackoff.
	backoff, maxBackoff time.Duration
}

// run follows the stream's shards until ctx is done.
func (m *streamMapping) run(ctx context.Context, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.follow(ctx)
	}()
}

func (m *streamMapping) follow(ctx context.Context) {
	var (
		mu       sync.Mutex
		finished = map[string]bool{} // shards read to their end
		started  = map[string]bool{}
		first    = true
		wg       sync.WaitGroup
		changed  = make(chan struct{}, 1)
	)
	defer wg.Wait()
	for ctx.Err() == nil {
		shards, err := m.shards(ctx)
		if err != nil {
			if ctx.Err() == nil {
				m.logf("stream %s → %s: DescribeStream: %v (retrying)", m.src.table, m.src.function, err)
			}
			sleep(ctx, 2*time.Second)
			continue
		}
		known := map[string]bool{}
		for _, s := range shards {
			known[aws.ToString(s.ShardId)] = true
		}
		for _, s := range shards {
			id := aws.ToString(s.ShardId)
			parent := aws.ToString(s.ParentShardId)
			closed := s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil
			mu.Lock()
			ready := !started[id] && (parent == "" || !known[parent] || finished[parent])
			if ready {
				started[id] = true
			}
			mu.Unlock()
			if !ready {
				continue
			}
			iterType := stypes.ShardIteratorTypeTrimHorizon
			if first && m.src.startAt == "LATEST" {
				if closed {
					// LATEST starts after everything already written.
					mu.Lock()
					finished[id] = true
					mu.Unlock()
					continue
				}
				iterType = stypes.ShardIteratorTypeLatest
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if m.readShard(ctx, id, iterType) {
					mu.Lock()
					finished[id] = true
					mu.Unlock()
					select {
					case changed <- struct{}{}:
					default:
					}
				}
			}()
		}
		first = false
		select {
		case <-ctx.Done():
		case <-changed:
		case <-time.After(time.Second):
		}
	}
}

// shards lists every shard of the stream.
func (m *streamMapping) shards(ctx context.Context) ([]stypes.Shard, error) {
	var out []stypes.Shard
	var start *string
	for {
		d, err := m.client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(m.arn), ExclusiveStartShardId: start})
		if err != nil {
			return nil, err
		}
		out = append(out, d.StreamDescription.Shards...)
		start = d.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return out, nil
		}
	}
}

// pendingRecord is a stream record waiting for delivery.
type pendingRecord struct {
	rec  events.DynamoDBEventRecord
	read time.Time
}

// readShard reads one shard to its end (true) or until ctx is done (false).
func (m *streamMapping) readShard(ctx context.Context, shard string, iterType stypes.ShardIteratorType) bool {
	var (
		iter     *string
		lastSeq  string // last sequence number read from the shard
		pending  []pendingRecord
		closed   bool
		failSeq  string // the first record of the batch that last failed,
		failures int    // how often it failed,
		failLen  int    // and its size: a retry is the same records
	)
	getIterator := func() error {
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(m.arn), ShardId: aws.String(shard), ShardIteratorType: iterType}
		if lastSeq != "" {
			in.ShardIteratorType = stypes.ShardIteratorTypeAfterSequenceNumber
			in.SequenceNumber = aws.String(lastSeq)
		}
		out, err := m.client.GetShardIterator(ctx, in)
		if err != nil {
			return err
		}
		iter = out.ShardIterator
		return nil
	}
	if err := getIterator(); err != nil {
		if ctx.Err() == nil {
			m.logf("stream %s shard %s: GetShardIterator: %v", m.src.table, shard, err)
		}
		return false
	}
	for ctx.Err() == nil {
		// Read while the batch is not full.
		if !closed && len(pending) < m.src.batchSize {
			if iter == nil {
				closed = true
			} else {
				out, err := m.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(1000)})
				if err != nil {
					if ctx.Err() != nil {
						return false
					}
					var expired *stypes.ExpiredIteratorException
					if !errors.As(err, &expired) {
						m.logf("stream %s shard %s: GetRecords: %v (retrying)", m.src.table, shard, err)
						sleep(ctx, time.Second)
					}
					if err := getIterator(); err != nil && ctx.Err() == nil {
						sleep(ctx, time.Second)
					}
					continue
				}
				iter = out.NextShardIterator
				now := time.Now()
				for _, r := range out.Records {
					rec := m.record(r)
					lastSeq = rec.Change.SequenceNumber
					if !m.src.filters.match(eventObject(rec)) {
						continue // filtered out: skipped, the checkpoint moves on
					}
					pending = append(pending, pendingRecord{rec: rec, read: now})
				}
				if iter == nil {
					closed = true
				}
				if len(out.Records) == 1000 && len(pending) < m.src.batchSize && !closed {
					continue // more are waiting: fill the batch first
				}
			}
		}
		pending = m.dropExpired(pending)
		if len(pending) == 0 {
			if closed {
				return true
			}
			sleep(ctx, streamPollInterval)
			continue
		}
		if m.src.window > 0 && len(pending) < m.src.batchSize && !closed && time.Since(pending[0].read) < m.src.window {
			sleep(ctx, min(streamPollInterval, m.src.window-time.Since(pending[0].read)))
			continue
		}
		n := min(len(pending), m.src.batchSize)
		f := 0
		if pending[0].rec.Change.SequenceNumber == failSeq {
			f, n = failures, min(n, failLen)
		}
		consumed, stuckSeq, stuckFailures, stuckLen := m.deliver(ctx, pending[:n], f)
		pending = pending[consumed:]
		failSeq, failures, failLen = stuckSeq, stuckFailures, stuckLen
		if stuckSeq != "" {
			sleep(ctx, m.delay(stuckFailures))
		}
	}
	return false
}

// dropExpired skips records older than MaximumRecordAgeInSeconds.
func (m *streamMapping) dropExpired(pending []pendingRecord) []pendingRecord {
	if m.src.maxRecordAge <= 0 {
		return pending
	}
	i := 0
	for i < len(pending) && time.Since(pending[i].rec.Change.ApproximateCreationDateTime.Time) > m.src.maxRecordAge {
		i++
	}
	if i > 0 {
		m.logf("stream %s → %s: skipped %d record(s) older than MaximumRecordAgeInSeconds (%s..%s)", m.src.table, m.src.function,
			i, pending[0].rec.Change.SequenceNumber, pending[i-1].rec.Change.SequenceNumber)
	}
	return pending[i:]
}

// deliver processes one batch and returns how many records of it are done
// with (succeeded or skipped), in order. When the remaining records must be
// retried it returns the first one's sequence number, their failure count and
// how many they are (the caller waits and calls again with those records).
func (m *streamMapping) deliver(ctx context.Context, batch []pendingRecord, failures int) (consumed int, retrySeq string, retryFailures, retryLen int) {
	type piece struct {
		recs     []pendingRecord
		failures int
	}
	stack := []piece{{batch, failures}}
	for len(stack) > 0 && ctx.Err() == nil {
		pc := stack[0]
		failedAt, ok := m.invoke(ctx, pc.recs)
		if ctx.Err() != nil {
			break
		}
		if ok && failedAt < 0 {
			consumed += len(pc.recs)
			stack = stack[1:]
			continue
		}
		pc.failures++
		exhausted := m.src.maxRetries >= 0 && pc.failures > m.src.maxRetries
		if ok { // partial failure: the records before the first failed one are done
			consumed += failedAt
			pc.recs = pc.recs[failedAt:]
		}
		if exhausted {
			m.logf("stream %s → %s: skipping %d record(s) (%s..%s) after %d failed attempts (MaximumRetryAttempts %d)",
				m.src.table, m.src.function, len(pc.recs), pc.recs[0].rec.Change.SequenceNumber,
				pc.recs[len(pc.recs)-1].rec.Change.SequenceNumber, pc.failures, m.src.maxRetries)
			consumed += len(pc.recs)
			stack = stack[1:]
			continue
		}
		if !ok && m.src.bisect && len(pc.recs) > 1 {
			h := len(pc.recs) / 2
			stack = append([]piece{{pc.recs[:h], pc.failures}, {pc.recs[h:], pc.failures}}, stack[1:]...)
			continue
		}
		if len(stack) == 1 {
			return consumed, pc.recs[0].rec.Change.SequenceNumber, pc.failures, len(pc.recs)
		}
		stack[0] = pc
		sleep(ctx, m.delay(pc.failures))
	}
	return consumed, "", 0, 0
}

// delay is the wait before retry number n (1, 2, ...).
func (m *streamMapping) delay(n int) time.Duration {
	d := m.backoff
	for i := 1; i < n && d < m.maxBackoff; i++ {
		d *= 2
	}
	return min(d, m.maxBackoff)
}

// invoke runs the function with recs. ok is false when the whole batch
// failed; otherwise failedAt is the index of the first record to retry (-1:
// none).
func (m *streamMapping) invoke(ctx context.Context, recs []pendingRecord) (failedAt int, ok bool) {
	ev := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, len(recs))}
	for i, r := range recs {
		ev.Records[i] = r.rec
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		m.logf("stream %s: %v", m.src.table, err)
		return 0, false
	}
	begin := time.Now()
	inv, err := m.fn.invoke(ctx, payload)
	took := time.Since(begin).Round(100 * time.Microsecond)
	line := fmt.Sprintf("%s DynamoDB %s %d records → %s", begin.Format("15:04:05"), m.src.table, len(recs), m.src.function)
	if err != nil {
		if !errors.Is(err, errClosed) && ctx.Err() == nil {
			fmt.Fprintf(m.log, "%s invoke failed %s: %v\n", line, took, err)
		}
		return 0, false
	}
	switch classify(inv) {
	case functionError:
		fmt.Fprintf(m.log, "%s function error %s\n", line, took)
		return 0, false
	case timedOut:
		fmt.Fprintf(m.log, "%s timed out %s\n", line, took)
		return 0, false
	}
	if !m.src.reportFailures {
		fmt.Fprintf(m.log, "%s ok %s\n", line, took)
		return -1, true
	}
	index := map[string]int{}
	for i, r := range recs {
		index[r.rec.Change.SequenceNumber] = i
	}
	failed, err := batchItemFailures(inv.body, func(id string) bool { _, ok := index[id]; return ok })
	if err != nil {
		fmt.Fprintf(m.log, "%s ok %s, but the whole batch fails: %v\n", line, took, err)
		return 0, false
	}
	if len(failed) == 0 {
		fmt.Fprintf(m.log, "%s ok %s\n", line, took)
		return -1, true
	}
	lowest := len(recs)
	for _, id := range failed {
		lowest = min(lowest, index[id])
	}
	fmt.Fprintf(m.log, "%s ok %s, retrying from %s (%d failed item(s))\n", line, took, recs[lowest].rec.Change.SequenceNumber, len(failed))
	return lowest, true
}

// record turns a DynamoDB Streams record into the record Lambda delivers.
func (m *streamMapping) record(r stypes.Record) events.DynamoDBEventRecord {
	return streamevent.Record(r, m.arn, Region)
}
