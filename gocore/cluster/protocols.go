package cluster

import "sort"

// protocolParties gives, for each protocol a cluster can run, its required number of
// parties (0: any number from 2). Package inference maps the names to implementations.
var protocolPartyCounts = map[string]int{
	"plain": 0,
	"rep3":  3,
}

func supportedProtocol(name string) bool { _, ok := protocolPartyCounts[name]; return ok }

func protocolParties(name string) int { return protocolPartyCounts[name] }

func protocolNames() []string {
	var out []string
	for k := range protocolPartyCounts {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
