// Command qmpc runs qmpc's computing parties on separate hosts and talks to them.
//
//	qmpc keygen --id 1 --out keys/                  on party 1's host: its key and certificate
//	qmpc cluster-config --party 0=HOST:PORT,party0.crt ... --client client.crt --out cluster.json
//	qmpc party  --config cluster.json --id 0 --key keys/party0.key --model model.tflite
//	qmpc party  --config cluster.json --id 1 --key keys/party1.key
//	qmpc infer  --config cluster.json --key keys/client.key --input x.npy --output y.npy
//	qmpc certs  --parties 3 --out cluster/          one-host shortcut (tests, demos): every key
//	qmpc inspect model.tflite
//
// Run "qmpc help" or "qmpc COMMAND --help" for details. Logs are structured (log/slog) on
// standard error; --log-format json gives one JSON object per line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/qmpc/qmpc/gocore/errs"
)

const usage = `qmpc: secure inference of quantized neural networks by several parties.

Deploying three parties, one per host (each run by its own organisation):

  1. Keys, on each host:   qmpc keygen --id 0 --out keys/    (party 1: --id 1, ...; the client: --client)
     writes keys/party0.key (private: it never leaves the host) and keys/party0.crt (public)
     and prints the certificate's pin. Each host sends only its .crt to whoever assembles:
       qmpc cluster-config --party 0=hostA:7100,party0.crt --party 1=hostB:7100,party1.crt \
                           --party 2=hostC:7100,party2.crt --client client.crt --out cluster.json
     cluster.json holds the addresses and certificates (no key). Give it unchanged to every host;
     each checks that it pins the value its keygen printed.
  2. On each host start its party (the model owner, party 0 by default, gives the model):
       qmpc party --config cluster.json --id 0 --key keys/party0.key --model model.tflite
       qmpc party --config cluster.json --id 1 --key keys/party1.key
       qmpc party --config cluster.json --id 2 --key keys/party2.key
     The parties connect to each other (mutually authenticated TLS 1.3, certificates pinned by
     cluster.json), the owner secret-shares the weights once, and they serve requests until
     stopped (Ctrl-C). If a party stops, the others wait for it and reconnect.
  3. From the client: qmpc infer --config cluster.json --key keys/client.key --input x.npy --output y.npy
     (Python: qmpc.Cluster("cluster.json", key="keys/client.key").infer(x)).

  For tests and demos on one host, qmpc certs --parties 3 --out cluster/ makes every key, the
  certificates and cluster/cluster.json in one step (whoever runs it holds every key).

Commands:
  keygen          make this host's private key and certificate
  cluster-config  assemble cluster.json from the parties' certificates and addresses
  certs           one-host shortcut for tests and demos: every key, certificate and cluster.json
  party           run one computing party
  infer           run one inference on a cluster as its client
  inspect         print a model's layers, shapes, quantization and digest
  bench           measure a secure inference locally (all parties in this process): per-layer
                  seconds, MB per party, rounds, offline/online split; --batch N for one pass
                  over N inputs

Global flags (before or after the command): --log-level debug|info|warn|error, --log-format text|json,
--cpuprofile FILE (a Go CPU profile of the whole run, written when the command ends).
Run "qmpc COMMAND --help" for a command's flags.
`

type command struct {
	name string
	run  func(ctx context.Context, args []string, log *slog.Logger, stdout io.Writer) error
}

func commands() []command {
	return append([]command{
		{"keygen", runKeygen},
		{"cluster-config", runClusterConfig},
		{"certs", runCerts},
		{"inspect", runInspect},
		{"bench", runBench},
	}, engineCommands()...)
}

func main() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) }

// Main runs the CLI with args (without the program name) and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	args, level, format, cpuprofile, err := globalFlags(args)
	if err != nil {
		fmt.Fprintln(stderr, "qmpc:", err)
		return 2
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "qmpc: --cpuprofile:", err)
			return 2
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			fmt.Fprintln(stderr, "qmpc: --cpuprofile:", err)
			return 2
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "qmpc (wire protocol 1)")
		return 0
	}
	var handler slog.Handler
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		handler = slog.NewJSONHandler(stderr, opts)
	} else {
		handler = slog.NewTextHandler(stderr, opts)
	}
	log := slog.New(handler)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], log, stdout)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				return 2
			}
			fmt.Fprintf(stderr, "qmpc %s: %v\n", c.name, err)
			if errs.KindOf(err) == errs.Config {
				return 2
			}
			return 1
		}
	}
	fmt.Fprintf(stderr, "qmpc: unknown command %q\n\n%s", args[0], usage)
	return 2
}

var errUsage = errors.New("usage")

// globalFlags removes --log-level, --log-format and --cpuprofile (anywhere in args).
func globalFlags(args []string) (rest []string, level slog.Level, format, cpuprofile string, err error) {
	format = "text"
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, has := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || (name != "log-level" && name != "log-format" && name != "cpuprofile") {
			rest = append(rest, a)
			continue
		}
		if !has {
			if i+1 >= len(args) {
				return nil, 0, "", "", fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			val = args[i]
		}
		switch name {
		case "cpuprofile":
			cpuprofile = val
		case "log-level":
			if err := level.UnmarshalText([]byte(val)); err != nil {
				return nil, 0, "", "", fmt.Errorf("--log-level %q: want debug, info, warn or error", val)
			}
		default:
			if val != "text" && val != "json" {
				return nil, 0, "", "", fmt.Errorf("--log-format %q: want text or json", val)
			}
			format = val
		}
	}
	return rest, level, format, cpuprofile, nil
}

// newFlagSet makes a command's flag set whose --help prints synopsis and flags.
func newFlagSet(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: qmpc %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; it returns errUsage after printing the problem, flag.ErrHelp for --help.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 && fs.Name() != "inspect" && fs.Name() != "bench" { // those take a MODEL
		fmt.Fprintf(fs.Output(), "qmpc %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}
