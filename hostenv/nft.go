package hostenv

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// jsonPortMark stands for the new port in NftRule.JSON.
const jsonPortMark = 0xFFFFFF

// nftFiles are the rulesets distributions load at boot: Debian's and
// RHEL/Fedora's.
var nftFiles = []string{"etc/nftables.conf", "etc/sysconfig/nftables.conf"}

func (d *detector) nft() *Nft {
	n := &Nft{Rules: []NftRule{}}
	for _, f := range nftFiles {
		if d.exists(f) {
			n.File = "/" + f
			d.nftFile(n, f, 0)
			break
		}
	}
	if d.o.Live {
		out, err := d.o.Runner.Output(d.ctx, "nft", "-j", "list", "ruleset")
		if err != nil {
			d.notes = append(d.notes, "cannot read the live nftables ruleset (nft -j list ruleset): "+err.Error())
		} else if err := d.nftLive(n, out); err != nil {
			d.notes = append(d.notes, "cannot read the live nftables ruleset: "+err.Error())
		} else {
			n.Live = true
		}
	}
	if n.File == "" && !n.Live {
		return nil
	}
	return n
}

var (
	nftTableRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^\s*table\s+(?:(ip|ip6|inet|arp|bridge|netdev)\s+)?(\S+)\s*\{`)
	})
	nftChainRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*chain\s+(\S+)\s*\{`) })
	nftDport   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\b(tcp|th)\s+dport\s+(\{[^}]*\}|\S+)`) })
	nftInclude = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*include\s+"([^"]+)"`) })
)

// nftFile reads a ruleset file and the files it includes, looking for the
// input chain and the rules accepting an old port.
func (d *detector) nftFile(n *Nft, name string, depth int) {
	// Includes nest at most 8 deep and 64 files in all: a hostile image
	// cannot make a glob include itself into a fan-out.
	d.nftRead++
	if depth > 8 || d.nftRead > 64 {
		return
	}
	b := d.read(name)
	family, table, chain := "", "", ""
	input := false
	depthBr := 0
	for i, raw := range strings.Split(string(b), "\n") {
		l := raw
		if c := strings.IndexByte(l, '#'); c >= 0 {
			l = l[:c]
		}
		if m := nftInclude().FindStringSubmatch(l); m != nil {
			inc := strings.TrimPrefix(m[1], "/")
			if strings.ContainsAny(inc, "*?[") {
				for _, g := range d.glob(path.Dir(inc), "") {
					if ok, _ := path.Match(inc, g); ok {
						d.nftFile(n, g, depth+1)
					}
				}
			} else {
				d.nftFile(n, inc, depth+1)
			}
			continue
		}
		if m := nftTableRE().FindStringSubmatch(l); m != nil && depthBr == 0 {
			family, table = m[1], m[2]
			if family == "" {
				family = "ip"
			}
		}
		if m := nftChainRE().FindStringSubmatch(l); m != nil && depthBr == 1 {
			chain, input = m[1], false
		}
		depthBr += strings.Count(l, "{") - strings.Count(l, "}")
		if depthBr < 2 {
			chain, input = "", false
			continue
		}
		f := strings.Fields(strings.NewReplacer(";", " ").Replace(l))
		if idx := indexOf(f, "hook"); idx >= 0 && idx+1 < len(f) && f[idx+1] == "input" && family != "arp" && family != "netdev" {
			input = true
			if n.Chain == "" {
				n.Chain = family + " " + table + " " + chain
				n.ChainAt = Location{File: "/" + name, Line: i + 1, Text: raw}
			}
			if idx := indexOf(f, "policy"); idx >= 0 && idx+1 < len(f) && f[idx+1] == "drop" {
				n.Filters = true
			}
			continue
		}
		if !input {
			continue
		}
		if idx := indexOf(f, "policy"); idx >= 0 && idx+1 < len(f) && f[idx+1] == "drop" {
			n.Filters = true
		}
		t := strings.TrimSpace(l)
		if t == "drop" || t == "reject" || strings.HasPrefix(t, "reject ") || strings.HasSuffix(t, "counter drop") {
			n.Filters = true
		}
		m := nftDport().FindStringSubmatchIndex(l)
		if m == nil || !strings.Contains(l, "accept") {
			continue
		}
		op := strings.Trim(l[m[4]:m[5]], "{} ")
		for _, p := range d.o.OldPorts {
			if portListHas(op, p, ",") {
				n.Rules = append(n.Rules, NftRule{Port: p, Chain: family + " " + table + " " + chain,
					Text: strings.TrimSpace(l[:m[4]] + "{PORT}" + l[m[5]:]), At: Location{File: "/" + name, Line: i + 1, Text: raw}})
			}
		}
	}
}

func indexOf(f []string, s string) int {
	for i, x := range f {
		if x == s {
			return i
		}
	}
	return -1
}

// FileLine returns the rule's file line for port, with the line's own
// indentation.
func (r NftRule) FileLine(port int) string {
	raw := r.At.Text
	m := nftDport().FindStringSubmatchIndex(raw)
	if m == nil {
		return raw
	}
	return raw[:m[4]] + strconv.Itoa(port) + raw[m[5]:]
}

type nftJSON struct {
	Nftables []map[string]json.RawMessage `json:"nftables"`
}

type nftChain struct {
	Family, Table, Name, Hook, Policy string
	Handle                            int
}

type nftRuleJSON struct {
	Family string            `json:"family"`
	Table  string            `json:"table"`
	Chain  string            `json:"chain"`
	Handle int               `json:"handle"`
	Expr   []json.RawMessage `json:"expr"`
}

// nftLive reads `nft -j list ruleset`: the input chains and the rules
// accepting an old port, with their handles.
func (d *detector) nftLive(n *Nft, out []byte) error {
	var doc nftJSON
	if err := json.Unmarshal(out, &doc); err != nil {
		return err
	}
	inputs := map[string]bool{}
	last := map[string]nftRuleJSON{}
	for _, obj := range doc.Nftables {
		if raw, ok := obj["chain"]; ok {
			var c struct {
				Family, Table, Name, Hook, Policy string
			}
			if json.Unmarshal(raw, &c) == nil && c.Hook == "input" && c.Family != "arp" && c.Family != "netdev" {
				key := c.Family + " " + c.Table + " " + c.Name
				inputs[key] = true
				if n.Chain == "" {
					n.Chain = key
				}
				if c.Policy == "drop" {
					n.Filters = true
				}
			}
		}
		raw, ok := obj["rule"]
		if !ok {
			continue
		}
		var r nftRuleJSON
		if json.Unmarshal(raw, &r) != nil {
			continue
		}
		key := r.Family + " " + r.Table + " " + r.Chain
		if !inputs[key] {
			continue
		}
		last[key] = r
		d.nftLiveRule(n, key, r)
	}
	for _, r := range last {
		if len(r.Expr) > 0 {
			var v map[string]json.RawMessage
			if json.Unmarshal(r.Expr[len(r.Expr)-1], &v) == nil && len(r.Expr) <= 2 {
				_, drop := v["drop"]
				_, rej := v["reject"]
				if drop || rej {
					n.Filters = true
				}
			}
		}
	}
	return nil
}

func (d *detector) nftLiveRule(n *Nft, key string, r nftRuleJSON) {
	accept := false
	portAt := -1
	var ports []int
	for i, e := range r.Expr {
		var v map[string]json.RawMessage
		if json.Unmarshal(e, &v) != nil {
			return
		}
		if _, ok := v["accept"]; ok {
			accept = true
		}
		m, ok := v["match"]
		if !ok {
			continue
		}
		var mm struct {
			Left  map[string]map[string]any `json:"left"`
			Right json.RawMessage           `json:"right"`
		}
		if json.Unmarshal(m, &mm) != nil {
			continue
		}
		pl := mm.Left["payload"]
		if pl == nil || pl["field"] != "dport" || (pl["protocol"] != "tcp" && pl["protocol"] != "th") {
			continue
		}
		portAt, ports = i, jsonPorts(mm.Right)
	}
	if !accept || portAt < 0 {
		return
	}
	for _, p := range d.o.OldPorts {
		hit := false
		for _, q := range ports {
			hit = hit || q == p
		}
		if !hit {
			continue
		}
		rule := NftRule{Port: p, Chain: key, Handle: r.Handle}
		expr := make([]json.RawMessage, len(r.Expr))
		copy(expr, r.Expr)
		var mv map[string]map[string]json.RawMessage
		_ = json.Unmarshal(r.Expr[portAt], &mv)
		mv["match"]["right"] = json.RawMessage(strconv.Itoa(jsonPortMark))
		expr[portAt], _ = json.Marshal(mv)
		text, ok := renderNft(expr)
		if ok {
			rule.Text = strings.ReplaceAll(text, strconv.Itoa(jsonPortMark), "{PORT}")
		}
		ins := map[string]any{"nftables": []any{map[string]any{"insert": map[string]any{"rule": map[string]any{
			"family": r.Family, "table": r.Table, "chain": r.Chain, "handle": r.Handle, "expr": expr}}}}}
		b, _ := json.Marshal(ins)
		rule.JSON = string(b)
		// Merge with the same rule read from the file.
		merged := false
		for i := range n.Rules {
			if n.Rules[i].Port == p && n.Rules[i].Chain == key && n.Rules[i].Handle == 0 {
				n.Rules[i].Handle, n.Rules[i].JSON = r.Handle, rule.JSON
				if ok {
					n.Rules[i].Text = rule.Text
				} else {
					n.Rules[i].Text = ""
				}
				merged = true
				break
			}
		}
		if !merged {
			n.Rules = append(n.Rules, rule)
		}
	}
}

// jsonPorts reads a match's right side: a number, a service name, a set of
// them, or a range.
func jsonPorts(raw json.RawMessage) []int {
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return []int{n}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if p, ok := portValue(s); ok {
			return []int{p}
		}
		return nil
	}
	var set struct {
		Set   []json.RawMessage `json:"set"`
		Range []int             `json:"range"`
	}
	if json.Unmarshal(raw, &set) != nil {
		return nil
	}
	var out []int
	for _, e := range set.Set {
		out = append(out, jsonPorts(e)...)
	}
	if len(set.Range) == 2 {
		for p := set.Range[0]; p <= set.Range[1] && p-set.Range[0] < 65536; p++ {
			out = append(out, p)
		}
	}
	return out
}

// renderNft writes a rule's expressions in nft syntax, for the shapes
// rules accepting a port take (payload, meta and ct matches, counter,
// accept); false for anything else.
func renderNft(expr []json.RawMessage) (string, bool) {
	var parts []string
	for _, e := range expr {
		var v map[string]json.RawMessage
		if json.Unmarshal(e, &v) != nil || len(v) != 1 {
			return "", false
		}
		for k, body := range v {
			switch k {
			case "accept":
				parts = append(parts, "accept")
			case "counter":
				parts = append(parts, "counter")
			case "match":
				var m struct {
					Op    string                    `json:"op"`
					Left  map[string]map[string]any `json:"left"`
					Right json.RawMessage           `json:"right"`
				}
				if json.Unmarshal(body, &m) != nil || len(m.Left) != 1 {
					return "", false
				}
				var left string
				for lk, lv := range m.Left {
					switch lk {
					case "payload":
						left = fmt.Sprintf("%v %v", lv["protocol"], lv["field"])
					case "meta", "ct":
						left = fmt.Sprintf("%s %v", lk, lv["key"])
					default:
						return "", false
					}
				}
				right, ok := renderRight(m.Right)
				if !ok {
					return "", false
				}
				op := ""
				switch m.Op {
				case "==", "in":
				case "!=":
					op = "!= "
				default:
					return "", false
				}
				parts = append(parts, left+" "+op+right)
			default:
				return "", false
			}
		}
	}
	return strings.Join(parts, " "), true
}

func renderRight(raw json.RawMessage) (string, bool) {
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return strconv.Itoa(n), true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, ","), true
	}
	var set struct {
		Set    []json.RawMessage `json:"set"`
		Prefix *struct {
			Addr string `json:"addr"`
			Len  int    `json:"len"`
		} `json:"prefix"`
		Range []json.RawMessage `json:"range"`
	}
	if json.Unmarshal(raw, &set) != nil {
		return "", false
	}
	switch {
	case set.Prefix != nil:
		return fmt.Sprintf("%s/%d", set.Prefix.Addr, set.Prefix.Len), true
	case len(set.Range) == 2:
		a, ok1 := renderRight(set.Range[0])
		b, ok2 := renderRight(set.Range[1])
		return a + "-" + b, ok1 && ok2
	case set.Set != nil:
		var items []string
		for _, e := range set.Set {
			it, ok := renderRight(e)
			if !ok {
				return "", false
			}
			items = append(items, it)
		}
		return "{ " + strings.Join(items, ", ") + " }", true
	}
	return "", false
}
