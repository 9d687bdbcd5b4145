// Command req1-kube is a multi-call binary holding a whole Kubernetes control
// plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler), a tiny
// hostPath volume provisioner and the KWOK stages for fake nodes, so tests get
// a real API server without kind, k3d or a container runtime. Each component
// runs as its own process; the component is picked from argv[1]
// ("req1-kube etcd ...") or from the basename of argv[0] (a symlink named
// "kube-apiserver").
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

// commands maps a component name to a function running it with its own args
// and returning the process exit code.
var commands = map[string]func(args []string) int{
	"etcd":                    runEtcd,
	"kube-apiserver":          func(a []string) int { return runCobra(apiserver.NewAPIServerCommand(), a) },
	"kube-controller-manager": func(a []string) int { return runCobra(controllermanager.NewControllerManagerCommand(), a) },
	"kube-scheduler":          func(a []string) int { return runCobra(scheduler.NewSchedulerCommand(), a) },
	"provisioner":             runProvisioner,
	"kwok-stages":             runKwokStages,
}

// runCobra runs an upstream component command exactly as its own main would,
// except that the arguments come from us rather than os.Args.
func runCobra(cmd *cobra.Command, args []string) int {
	cmd.SetArgs(args)
	return cli.Run(cmd)
}

func names() string {
	out := make([]string, 0, len(commands))
	for n := range commands {
		out = append(out, n)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func main() {
	if run, ok := commands[filepath.Base(os.Args[0])]; ok {
		os.Exit(run(os.Args[1:]))
	}
	if len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, "usage: %s COMPONENT [flags]\ncomponents: %s\n", os.Args[0], names())
		os.Exit(2)
	}
	run, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown component %q; components: %s\n", os.Args[1], names())
		os.Exit(2)
	}
	os.Exit(run(os.Args[2:]))
}
