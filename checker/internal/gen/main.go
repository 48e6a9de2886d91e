// Command gen writes checker's IANA port table (iana_table.go) from IANA's
// service-names-port-numbers.xml.
//
// Rules (see shared/data/iana/SOURCE.md): a port is TCP-assigned when a
// record with a non-empty service name and protocol "tcp" or blank covers it
// (single port or range). Unnamed rows (Reserved, Unassigned) are ignored, so a
// named assignment always wins over an "Unassigned" range row. Names keep the
// registry's order (EtherNet-IP-1 before its alias EtherNet/IP-1); the
// description is the first named record's, cut at its first <br/>.
//
// Usage: go run ./internal/gen -in service-names-port-numbers.xml -out iana_table.go
package main

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

type record struct {
	Name        string      `xml:"name"`
	Protocol    string      `xml:"protocol"`
	Number      string      `xml:"number"`
	Description description `xml:"description"`
}

// description keeps the text of <description> up to its first child element
// (IANA uses <br/> to append notes), with white space collapsed.
type description string

func (d *description) UnmarshalXML(dec *xml.Decoder, start xml.StartElement) error {
	var b strings.Builder
	depth, cut := 0, false
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			cut = true
		case xml.EndElement:
			if depth == 0 {
				*d = description(strings.Join(strings.Fields(b.String()), " "))
				return nil
			}
			depth--
		case xml.CharData:
			if !cut {
				b.Write(t)
			}
		}
	}
}

type entry struct {
	names []string
	desc  string
}

func main() {
	in := flag.String("in", "", "IANA service-names-port-numbers.xml")
	out := flag.String("out", "iana_table.go", "Go file to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" {
		return fmt.Errorf("-in is required")
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	ports, updated, err := parse(f)
	if err != nil {
		return fmt.Errorf("%s: %v", in, err)
	}
	src, err := render(ports, updated)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}

// parse returns every TCP-assigned port with its entry, and the registry's date.
func parse(r io.Reader) (map[int]*entry, string, error) {
	dec := xml.NewDecoder(r)
	ports := map[int]*entry{}
	updated := ""
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "", err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			depth--
		case xml.StartElement:
			depth++
			switch {
			case t.Name.Local == "updated" && depth == 2:
				if err := dec.DecodeElement(&updated, &t); err != nil {
					return nil, "", err
				}
				depth--
			case t.Name.Local == "record" && depth == 2:
				var rec record
				if err := dec.DecodeElement(&rec, &t); err != nil {
					return nil, "", err
				}
				depth--
				if err := add(ports, rec); err != nil {
					return nil, "", err
				}
			}
		}
	}
	if updated == "" || len(ports) == 0 {
		return nil, "", fmt.Errorf("not an IANA service-names registry")
	}
	return ports, updated, nil
}

func add(ports map[int]*entry, rec record) error {
	name := strings.TrimSpace(rec.Name)
	proto := strings.TrimSpace(rec.Protocol)
	num := strings.TrimSpace(rec.Number)
	if name == "" || num == "" || (proto != "tcp" && proto != "") {
		return nil
	}
	if strings.ContainsAny(name, " \t\n`") || strings.ContainsAny(string(rec.Description), "\t\n`") {
		return fmt.Errorf("record %q: unexpected character in name or description", name)
	}
	lo, hi, err := portRange(num)
	if err != nil {
		return fmt.Errorf("record %q: %v", name, err)
	}
	for p := lo; p <= hi; p++ {
		e := ports[p]
		if e == nil {
			e = &entry{desc: string(rec.Description)}
			ports[p] = e
		}
		dup := false
		for _, n := range e.names {
			dup = dup || n == name
		}
		if !dup {
			e.names = append(e.names, name)
		}
	}
	return nil
}

func portRange(s string) (int, int, error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.Atoi(a)
	if err != nil {
		return 0, 0, err
	}
	hi := lo
	if isRange {
		if hi, err = strconv.Atoi(b); err != nil {
			return 0, 0, err
		}
	}
	if lo < 0 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("bad port range %q", s)
	}
	return lo, hi, nil
}

// render writes the table: a raw string with one distinct entry per line
// ("name name\tdescription"), line offsets, and per port the entry index.
func render(ports map[int]*entry, updated string) ([]byte, error) {
	nums := make([]int, 0, len(ports))
	for p := range ports {
		nums = append(nums, p)
	}
	sort.Ints(nums)

	var text strings.Builder
	index := map[string]int{}
	offs := []int{0}
	entryOf := make([]int, len(nums))
	for i, p := range nums {
		e := ports[p]
		line := strings.Join(e.names, " ") + "\t" + e.desc
		k, ok := index[line]
		if !ok {
			k = len(offs) - 1
			index[line] = k
			text.WriteString(line)
			text.WriteByte('\n')
			offs = append(offs, text.Len())
		}
		entryOf[i] = k
	}
	if len(offs)-1 > 65535 {
		return nil, fmt.Errorf("too many entries for uint16 indexes")
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by checker/internal/gen from IANA's service-names-port-numbers.xml; DO NOT EDIT.\n\n")
	fmt.Fprintf(&b, "package checker\n\n")
	fmt.Fprintf(&b, "// IANAUpdated is the registry date of the IANA table built into checker.\n")
	fmt.Fprintf(&b, "const IANAUpdated = %q\n\n", updated)
	fmt.Fprintf(&b, "// ianaPort lists the %d TCP-assigned ports in increasing order.\n", len(nums))
	writeInts(&b, "ianaPort", "uint16", nums)
	fmt.Fprintf(&b, "// ianaEntry[i] is the line of ianaText that describes ianaPort[i].\n")
	writeInts(&b, "ianaEntry", "uint16", entryOf)
	fmt.Fprintf(&b, "// ianaOff[k] is the byte offset of line k of ianaText.\n")
	writeInts(&b, "ianaOff", "uint32", offs)
	fmt.Fprintf(&b, "// ianaText holds one line per distinct entry: names separated by spaces, a tab, the description.\n")
	fmt.Fprintf(&b, "const ianaText = `%s`\n", text.String())
	return format.Source(b.Bytes())
}

func writeInts(b *bytes.Buffer, name, typ string, v []int) {
	fmt.Fprintf(b, "var %s = [...]%s{", name, typ)
	for i, n := range v {
		if i%16 == 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "%d,", n)
	}
	b.WriteString("\n}\n\n")
}
