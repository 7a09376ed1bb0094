// fleet-load-go: the fleet load generator of bench/fleet.ts written with grpc-go, a lighter
// client than a Node process, so the latency it reports is the server's, not its own event
// loop's. It plays the same fleet as bench/fleet-load.ts (the same nodes, identities, followed
// topics and open-loop schedule) and speaks the same protocol to its parent, as JSON lines on
// stdout: {"type":"measure-start"} when the warm-up ends, {"type":"measure-end"} when the last
// measured BatchPoll was sent, then {"type":"result", ...} (FleetLoadResult's fields).
//
// Bounded like the Node generator: loopback addresses only; at most 10,000 BatchPolls/s, 300 s
// measured, 60 s of warm-up, maxInFlight outstanding calls (beyond, a send is shed and counted
// as an error); it exits when done and kills itself if it overruns its time by 30 s.
//
// Requests are protobuf encoded by hand (protowire) and sent through a pass-through codec, so no
// generated Go code is needed: BatchPollRequest{identity=1, topics=2{topic=1, last_seen_version=2}};
// from each BatchPollResponse{results=1{update=2{record=1{version=2}}, error_code=3}} it reads
// the versions to hold and the per-topic errors.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// rawCodec passes bytes through: the messages are encoded and read by hand. Named "proto" so
// the content type is application/grpc+proto, as any gRPC client sends.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// mulberry32, as bench/fleet-load.ts's prng: every run (and both generators) play the same fleet.
func prng(seed uint32) func() float64 {
	a := seed
	return func() float64 {
		a += 0x6d2b79f5
		t := a
		t = (t ^ (t >> 15)) * (t | 1)
		t ^= t + (t^(t>>7))*(t|61)
		return float64(t^(t>>14)) / 4294967296
	}
}

// topicsOf: which topics node i follows, distinct, skewed towards the low (popular) ones.
func topicsOf(i, perNode, topicCount int) []int {
	rnd := prng(uint32(i*7919 + 17))
	seen := map[int]bool{}
	out := []int{}
	for len(out) < min(perNode, topicCount) {
		r := rnd()
		t := int(math.Floor(float64(topicCount) * r * r))
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

var regions = []string{"us-east-1", "us-west-2", "eu-west-1", "ap-south-1"}
var loopback = regexp.MustCompile(`^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$`)

// The gRPC status names grpc-js uses, so both generators count errors under the same names.
var codeNames = map[codes.Code]string{
	codes.OK: "OK", codes.Canceled: "CANCELLED", codes.Unknown: "UNKNOWN", codes.InvalidArgument: "INVALID_ARGUMENT",
	codes.DeadlineExceeded: "DEADLINE_EXCEEDED", codes.NotFound: "NOT_FOUND", codes.AlreadyExists: "ALREADY_EXISTS",
	codes.PermissionDenied: "PERMISSION_DENIED", codes.ResourceExhausted: "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION", codes.Aborted: "ABORTED", codes.OutOfRange: "OUT_OF_RANGE",
	codes.Unimplemented: "UNIMPLEMENTED", codes.Internal: "INTERNAL", codes.Unavailable: "UNAVAILABLE",
	codes.DataLoss: "DATA_LOSS", codes.Unauthenticated: "UNAUTHENTICATED",
}

func identity(i, apps int) []byte {
	var b []byte
	for f, v := range []string{fmt.Sprintf("app-%d", i%apps), fmt.Sprintf("cluster-%d", i%40), regions[i%len(regions)], fmt.Sprintf("node-%d", i)} {
		b = protowire.AppendTag(b, protowire.Number(f+1), protowire.BytesType)
		b = protowire.AppendString(b, v)
	}
	return b
}

// readResults calls f(j, version, isError) for each result j of a BatchPollResponse (version 0: no update).
func readResults(b []byte, f func(j int, version uint64, isError bool)) error {
	j := 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if num != 1 || typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		res, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var version uint64
		isError := false
		for len(res) > 0 {
			num, typ, n := protowire.ConsumeTag(res)
			if n < 0 {
				return protowire.ParseError(n)
			}
			res = res[n:]
			v := protowire.ConsumeFieldValue(num, typ, res)
			if v < 0 {
				return protowire.ParseError(v)
			}
			field := res[:v]
			res = res[v:]
			switch {
			case num == 3 && typ == protowire.BytesType:
				s, _ := protowire.ConsumeBytes(field)
				isError = len(s) > 0
			case num == 2 && typ == protowire.BytesType: // Update
				upd, _ := protowire.ConsumeBytes(field)
				version = fieldVarint(fieldBytes(upd, 1), 2)
			}
		}
		f(j, version, isError)
		j++
	}
	return nil
}

// fieldBytes: the first length-delimited field num of message b (nil when absent).
func fieldBytes(b []byte, num protowire.Number) []byte {
	for len(b) > 0 {
		n2, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil
		}
		b = b[n:]
		v := protowire.ConsumeFieldValue(n2, typ, b)
		if v < 0 {
			return nil
		}
		if n2 == num && typ == protowire.BytesType {
			s, _ := protowire.ConsumeBytes(b[:v])
			return s
		}
		b = b[v:]
	}
	return nil
}

// fieldVarint: the varint field num of message b (0 when absent).
func fieldVarint(b []byte, num protowire.Number) uint64 {
	for len(b) > 0 {
		n2, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0
		}
		b = b[n:]
		v := protowire.ConsumeFieldValue(n2, typ, b)
		if v < 0 {
			return 0
		}
		if n2 == num && typ == protowire.VarintType {
			x, _ := protowire.ConsumeVarint(b[:v])
			return x
		}
		b = b[v:]
	}
	return 0
}

type pct struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func percentiles(xs []float64) pct {
	if len(xs) == 0 {
		return pct{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	}
	sort.Float64s(xs)
	q := func(p float64) float64 { return xs[min(len(xs)-1, int(math.Floor(p*float64(len(xs)))))] }
	return pct{q(0.5), q(0.9), q(0.99), xs[len(xs)-1]}
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

var out = json.NewEncoder(os.Stdout)
var outMu sync.Mutex

func send(m any) {
	outMu.Lock()
	defer outMu.Unlock()
	_ = out.Encode(m)
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "fleet-load-go: "+format+"\n", a...)
	os.Exit(2)
}

func main() {
	address := flag.String("address", "", "host:port of the server (loopback)")
	nodes := flag.Int("nodes", 100_000, "")
	per := flag.Int("topics-per-node", 7, "")
	topicCount := flag.Int("topic-count", 1000, "")
	initialVersion := flag.Uint64("initial-version", 1, "")
	intervalS := flag.Float64("interval-s", 30, "")
	warmupS := flag.Float64("warmup-s", 5, "")
	durationS := flag.Float64("duration-s", 60, "")
	channels := flag.Int("channels", 8, "")
	apps := flag.Int("apps", 20, "")
	maxInFlight := flag.Int64("max-in-flight", 20_000, "")
	deadlineMs := flag.Int("deadline-ms", 10_000, "")
	flag.Parse()
	switch {
	case !loopback.MatchString(*address):
		fail("address must be loopback (127.x.x.x, localhost, [::1]), got %s", *address)
	case *nodes < 1 || *nodes > 1_000_000:
		fail("nodes must be 1..1000000")
	case *per < 1 || *per > 200 || *per > *topicCount:
		fail("topicsPerNode must be 1..200 and <= topicCount")
	case float64(*nodes) / *intervalS > 10_000:
		fail("at most 10000 BatchPolls/s")
	case *durationS <= 0 || *durationS > 300:
		fail("durationS must be in (0, 300]")
	case *warmupS < 0 || *warmupS > 60:
		fail("warmupS must be in [0, 60]")
	case *channels < 1 || *channels > 64:
		fail("channels must be 1..64")
	case *maxInFlight < 1 || *maxInFlight > 100_000:
		fail("maxInFlight must be 1..100000")
	}
	// Never outlive the time asked for by more than 30 s.
	time.AfterFunc(time.Duration((*warmupS+*durationS+30)*1000+float64(*deadlineMs))*time.Millisecond, func() {
		fmt.Fprintln(os.Stderr, "fleet-load-go: overran its time; exiting")
		os.Exit(3)
	})

	// 1. The fleet: identities, followed topics and what each node holds.
	names := make([]string, *topicCount)
	for i := range names {
		names[i] = fmt.Sprintf("t%04d", i)
	}
	follows := make([]uint16, *nodes**per)
	holds := make([]atomic.Uint64, *nodes**per)
	identities := make([][]byte, *nodes)
	for i := 0; i < *nodes; i++ {
		for j, t := range topicsOf(i, *per, *topicCount) {
			follows[i**per+j] = uint16(t)
			holds[i**per+j].Store(*initialVersion)
		}
		identities[i] = identity(i, *apps)
	}

	// 2. Connections: one ClientConn each (its own HTTP/2 connection).
	conns := make([]*grpc.ClientConn, *channels)
	for i := range conns {
		c, err := grpc.NewClient(*address, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			fail("%v", err)
		}
		c.Connect()
		conns[i] = c
	}
	readyCtx, cancelReady := context.WithTimeout(context.Background(), 10*time.Second)
	for _, c := range conns {
		if err := c.Invoke(readyCtx, "/grpc.health.v1.Health/Check", &[]byte{}, new([]byte), grpc.ForceCodec(rawCodec{}), grpc.WaitForReady(true)); err != nil && status.Code(err) == codes.DeadlineExceeded {
			fail("server not ready: %v", err)
		}
	}
	cancelReady()

	// 3. Open-loop schedule: BatchPoll k leaves at start + k / rate, for node k mod nodes.
	rate := float64(*nodes) / *intervalS
	period := time.Duration(float64(time.Second) / rate)
	total := int(math.Floor((*warmupS + *durationS) * rate))
	firstMeasured := int(math.Floor(*warmupS * rate))
	var mu sync.Mutex
	latencies := make([]float64, 0, total-firstMeasured+16)
	lags := make([]float64, 0, total-firstMeasured+16)
	var sent, ok, errs, shed, topicErrors, updates, topicChecks int
	errorCodes := map[string]int{}
	errorSamples := map[string]string{}
	var inFlight atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Duration(*deadlineMs) * time.Millisecond
	codec := grpc.ForceCodec(rawCodec{})

	sendOne := func(seq int, scheduled time.Time) {
		measured := seq >= firstMeasured
		node := seq % *nodes
		if measured {
			mu.Lock()
			sent++
			topicChecks += *per
			lags = append(lags, float64(time.Since(scheduled))/1e6)
			mu.Unlock()
		}
		if inFlight.Load() >= *maxInFlight {
			if measured {
				mu.Lock()
				shed++
				mu.Unlock()
			}
			return
		}
		base := node * *per
		req := protowire.AppendTag(nil, 1, protowire.BytesType)
		req = protowire.AppendBytes(req, identities[node])
		for j := 0; j < *per; j++ {
			var cur []byte
			cur = protowire.AppendTag(cur, 1, protowire.BytesType)
			cur = protowire.AppendString(cur, names[follows[base+j]])
			cur = protowire.AppendTag(cur, 2, protowire.VarintType)
			cur = protowire.AppendVarint(cur, holds[base+j].Load())
			req = protowire.AppendTag(req, 2, protowire.BytesType)
			req = protowire.AppendBytes(req, cur)
		}
		inFlight.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			var res []byte
			err := conns[seq%len(conns)].Invoke(ctx, "/imprint.v1.ConsumerService/BatchPoll", &req, &res, codec)
			inFlight.Add(-1)
			upd, terr := 0, 0
			if err == nil {
				err = readResults(res, func(j int, version uint64, isError bool) {
					if isError {
						terr++
					} else if version > 0 && j < *per {
						holds[base+j].Store(version)
						upd++
					}
				})
			}
			if !measured {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			latencies = append(latencies, float64(time.Since(scheduled))/1e6)
			if err != nil {
				errs++
				name := codeNames[status.Code(err)]
				errorCodes[name]++
				if _, seen := errorSamples[name]; !seen {
					errorSamples[name] = status.Convert(err).Message()
				}
			} else {
				ok++
			}
			topicErrors += terr
			updates += upd
		}()
	}

	start := time.Now().Add(50 * time.Millisecond)
	var cpuStart float64
	var tStart, tEnd time.Time
	for k := 0; k < total; {
		now := time.Now()
		for k < total && !start.Add(time.Duration(k)*period).After(now) {
			if k == firstMeasured {
				cpuStart = cpuSeconds()
				tStart = time.Now()
				send(map[string]string{"type": "measure-start"})
			}
			sendOne(k, start.Add(time.Duration(k)*period))
			k++
		}
		if k < total {
			time.Sleep(time.Millisecond)
		}
	}
	tEnd = time.Now()
	cpu := cpuSeconds() - cpuStart
	send(map[string]string{"type": "measure-end"})
	measuredS := tEnd.Sub(tStart).Seconds()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(deadline + time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	unanswered := sent - shed - len(latencies)
	if unanswered > 0 {
		errorCodes["UNANSWERED"] = unanswered
	}
	if shed > 0 {
		errorCodes["SHED (generator at maxInFlight)"] = shed
	}
	lag := percentiles(lags)
	send(map[string]any{
		"type": "result", "offeredPerS": rate, "measuredS": measuredS,
		"sent": sent, "ok": ok, "errors": errs + shed + max(0, unanswered), "shed": shed,
		"topicErrors": topicErrors, "updates": updates, "topicChecks": topicChecks,
		"errorCodes": errorCodes, "errorSamples": errorSamples,
		"latency":        percentiles(latencies),
		"sendLag":        map[string]float64{"p50": lag.P50, "p99": lag.P99, "max": lag.Max},
		"generatorCores": cpu / measuredS,
	})
	for _, c := range conns {
		_ = c.Close()
	}
}
