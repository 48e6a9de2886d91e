package checker

import (
	"slices"
	"strings"
)

// Class is the IANA range a port falls in (RFC 6335).
type Class int

const (
	Invalid    Class = iota // outside 0-65535
	WellKnown               // 0-1023, System Ports
	Registered              // 1024-49151, User Ports
	Dynamic                 // 49152-65535, Dynamic and/or Private Ports
)

// String gives the class as IANA names it.
func (c Class) String() string {
	switch c {
	case WellKnown:
		return "well-known (0-1023)"
	case Registered:
		return "registered (1024-49151)"
	case Dynamic:
		return "dynamic (49152-65535)"
	}
	return "invalid"
}

// ClassOf returns the IANA class of port.
func ClassOf(port int) Class {
	switch {
	case port < 0 || port > 65535:
		return Invalid
	case port <= 1023:
		return WellKnown
	case port <= 49151:
		return Registered
	}
	return Dynamic
}

// IANARegistered is IANA's registered range (User Ports), where sshport
// looks for a port.
var IANARegistered = Range{1024, 49151}

// IANADynamic is the IANA dynamic/private range, the fallback ephemeral range.
var IANADynamic = Range{49152, 65535}

// Assignment is IANA's TCP assignment of one port.
type Assignment struct {
	Port        int
	Names       []string // service names in registry order, aliases after the preferred name
	Description string   // may be empty (2022 "down" has none)
}

// IANA looks port up in the built-in IANA table (TCP, or no protocol given,
// registry date IANAUpdated). ok is false when IANA assigns no TCP service to
// port (unassigned, reserved or dynamic). It allocates only on a hit.
func IANA(port int) (a Assignment, ok bool) {
	if port < 0 || port > 65535 {
		return Assignment{}, false
	}
	i, found := slices.BinarySearch(ianaPort[:], uint16(port))
	if !found {
		return Assignment{}, false
	}
	k := ianaEntry[i]
	line := ianaText[ianaOff[k] : ianaOff[k+1]-1]
	names, desc, _ := strings.Cut(line, "\t")
	return Assignment{Port: port, Names: strings.Fields(names), Description: desc}, true
}

// IANAAssigned reports whether IANA assigns port for TCP, without allocating.
func IANAAssigned(port int) bool {
	if port < 0 || port > 65535 {
		return false
	}
	_, found := slices.BinarySearch(ianaPort[:], uint16(port))
	return found
}
