// Command porcupine-bench times Porcupine (github.com/anishathalye/porcupine)
// on register histories written as Jepsen log lines, so capsim's checker can
// be compared with it side by side on the same files and the same machine.
//
// It is built by benchmarks/bench_checker.py --porcupine against a local
// Porcupine source tree (a replace directive in a go.mod written beside a
// copy of this file in a temporary directory); nothing of Porcupine is kept
// in capsim's repository.
//
// Usage: porcupine-bench [-init nil|INT] [-timeout SECONDS] [-repeat N] FILE...
//
// For each file it prints one JSON line:
//
//	{"file": ..., "events": N, "result": "ok"|"illegal"|"unknown", "seconds": S}
//
// where seconds is the median over -repeat runs of the check alone
// (CheckEventsTimeout), not the parsing. "unknown" means Porcupine's own
// timeout ran out.
//
// The register model is the one of Porcupine's etcd test (porcupine_test.go):
// a read of nil matches the initial state, a failed cas asserts that the
// register did not hold its expected value, and an operation without an
// answer (an :info line, or a process that never answered) may take effect
// at any time after its call, or never.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/anishathalye/porcupine"
)

const nilValue = -1000000 // the register's "nil", as in Porcupine's etcd test

type input struct {
	op   uint8 // 0 read, 1 write, 2 cas
	arg1 int   // write's value, or cas's expected value
	arg2 int   // cas's new value
}

type output struct {
	ok      bool // cas succeeded
	value   int  // value read (nilValue for nil)
	unknown bool // no answer: any outcome
}

func model(init int) porcupine.Model {
	return porcupine.Model{
		Init: func() interface{} { return init },
		Step: func(state, in, out interface{}) (bool, interface{}) {
			st := state.(int)
			i := in.(input)
			o := out.(output)
			switch i.op {
			case 0:
				return o.unknown || o.value == st, st
			case 1:
				return true, i.arg1
			default:
				ok := o.unknown || (i.arg1 == st) == o.ok
				if i.arg1 == st {
					return ok, i.arg2
				}
				return ok, st
			}
		},
		Equal: func(a, b interface{}) bool { return a.(int) == b.(int) },
		Hash:  func(s interface{}) uint64 { return uint64(s.(int)) },
	}
}

var (
	line = regexp.MustCompile(`^(?:.*\s-\s+)?(-?\d+)\t:(invoke|ok|fail|info)\t:(read|write|cas)\t(.*?)(?:\t.*)?$`)
	num  = regexp.MustCompile(`^-?\d+$`)
	pair = regexp.MustCompile(`^\[(-?\d+)\s+(-?\d+)\]$`)
)

func value(s string) (int, error) {
	if s == "nil" {
		return nilValue, nil
	}
	if !num.MatchString(s) {
		return 0, fmt.Errorf("not an integer or nil: %q", s)
	}
	return strconv.Atoi(s)
}

// parse reads Jepsen log lines into Porcupine events. A :fail read (a timed
// out read) gets an "unknown" answer, as in Porcupine's etcd test; :info
// lines leave their call pending, answered "unknown" at the end of the history.
func parse(path string) ([]porcupine.Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var events []porcupine.Event
	pending := map[int]int{} // process -> id of its open call
	id := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		proc, _ := strconv.Atoi(m[1])
		kind, fn, arg := m[2], m[3], m[4]
		bad := func(err error) error { return fmt.Errorf("%s:%d: %v", path, n, err) }
		if kind == "invoke" {
			var in input
			switch fn {
			case "read":
				in = input{op: 0}
			case "write":
				v, err := value(arg)
				if err != nil {
					return nil, bad(err)
				}
				in = input{op: 1, arg1: v}
			case "cas":
				p := pair.FindStringSubmatch(arg)
				if p == nil {
					return nil, bad(fmt.Errorf("cas value should be [a b], got %q", arg))
				}
				a, _ := strconv.Atoi(p[1])
				b, _ := strconv.Atoi(p[2])
				in = input{op: 2, arg1: a, arg2: b}
			}
			events = append(events, porcupine.Event{ClientId: proc, Kind: porcupine.CallEvent, Value: in, Id: id})
			pending[proc] = id
			id++
			continue
		}
		if kind == "info" {
			continue // no answer: stays pending until the end
		}
		call, open := pending[proc]
		if !open {
			return nil, bad(fmt.Errorf("answer of process %d without a call", proc))
		}
		delete(pending, proc)
		var out output
		switch {
		case fn == "read" && kind == "ok":
			v, err := value(arg)
			if err != nil {
				return nil, bad(err)
			}
			out = output{value: v}
		case fn == "read": // a failed (timed-out) read tells nothing
			out = output{unknown: true}
		case fn == "cas":
			out = output{ok: kind == "ok"}
		default: // write ok; a failed write did not happen: Porcupine's model has no such case
			if kind == "fail" {
				out = output{unknown: true}
			}
		}
		events = append(events, porcupine.Event{ClientId: proc, Kind: porcupine.ReturnEvent, Value: out, Id: call})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	procs := make([]int, 0, len(pending))
	for p := range pending {
		procs = append(procs, p)
	}
	sort.Ints(procs)
	for _, p := range procs {
		events = append(events, porcupine.Event{ClientId: p, Kind: porcupine.ReturnEvent, Value: output{unknown: true}, Id: pending[p]})
	}
	return events, nil
}

type report struct {
	File    string  `json:"file"`
	Events  int     `json:"events"`
	Result  string  `json:"result"`
	Seconds float64 `json:"seconds"`
	Error   string  `json:"error,omitempty"`
}

func main() {
	initFlag := flag.String("init", "nil", "the register's initial value: nil or an integer")
	timeout := flag.Float64("timeout", 60, "seconds Porcupine may take per check (0: no limit)")
	repeat := flag.Int("repeat", 1, "checks per file; the median time is printed")
	flag.Parse()
	init, err := value(*initFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "-init:", err)
		os.Exit(2)
	}
	m := model(init)
	enc := json.NewEncoder(os.Stdout)
	for _, path := range flag.Args() {
		events, err := parse(path)
		if err != nil {
			_ = enc.Encode(report{File: path, Error: err.Error()})
			continue
		}
		var times []float64
		var res porcupine.CheckResult
		for r := 0; r < *repeat; r++ {
			start := time.Now()
			res = porcupine.CheckEventsTimeout(m, events, time.Duration(*timeout*float64(time.Second)))
			times = append(times, time.Since(start).Seconds())
			if res == porcupine.Unknown {
				break // a timeout: repeating it only repeats the timeout
			}
		}
		sort.Float64s(times)
		name := map[porcupine.CheckResult]string{porcupine.Ok: "ok", porcupine.Illegal: "illegal", porcupine.Unknown: "unknown"}[res]
		_ = enc.Encode(report{File: path, Events: len(events), Result: name, Seconds: times[len(times)/2]})
	}
}
