package main

// Output helpers shared by the commands.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/sshport/sshport/sshcfg"
)

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// colorOK reports whether w is a terminal and NO_COLOR is unset.
func colorOK(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

type painter bool

func (p painter) paint(code, s string) string {
	if !p {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func joinComma(s []string) string { return strings.Join(s, ", ") }

func intsJoin(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// errorReport is what every command prints on stdout for an error when
// --json is given (with the usual one line on stderr and exit status 2):
// {"ok": false, "error": {"message", "file", "line"}, "exit_code"}.
type errorReport struct {
	OK       bool      `json:"ok"`
	Error    errorBody `json:"error"`
	ExitCode int       `json:"exit_code"`
}

type errorBody struct {
	Message string `json:"message"`
	File    string `json:"file,omitempty"` // the file sshd names, when it names one
	Line    int    `json:"line,omitempty"`
}

func newErrorReport(err error, code int) errorReport {
	r := errorReport{Error: errorBody{Message: err.Error()}, ExitCode: code}
	var list sshcfg.ErrorList
	var one *sshcfg.Error
	switch {
	case errors.As(err, &list) && len(list) > 0:
		r.Error.File, r.Error.Line = list[0].File, list[0].Line
	case errors.As(err, &one):
		r.Error.File, r.Error.Line = one.File, one.Line
	}
	return r
}
