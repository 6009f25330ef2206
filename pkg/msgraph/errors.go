package msgraph

import (
	"errors"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/xtsync/xtsync/pkg/engine"
)

// graphError describes a Graph error answer.
type graphError struct {
	status  int
	code    string
	message string
}

// asGraphError extracts the status, code and message of an ODataError.
func asGraphError(err error) (graphError, bool) {
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		return graphError{}, false
	}
	ge := graphError{status: oe.ResponseStatusCode}
	if main := oe.GetErrorEscaped(); main != nil {
		if c := main.GetCode(); c != nil {
			ge.code = *c
		}
		if m := main.GetMessage(); m != nil {
			ge.message = *m
		}
	}
	return ge, true
}

func statusOf(err error) int {
	ge, _ := asGraphError(err)
	return ge.status
}

// isAlreadyMember recognises Graph's all-or-nothing refusal of a member add
// that names an existing member.
func isAlreadyMember(err error) bool {
	ge, ok := asGraphError(err)
	return ok && ge.status == 400 && strings.Contains(ge.message, "added object references already exist")
}

// wrap adds context to a Graph error and maps 404 to engine.ErrNotFound.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	if ge, ok := asGraphError(err); ok {
		if ge.status == 404 {
			return fmt.Errorf("%s: %w (%s)", what, engine.ErrNotFound, ge.message)
		}
		return fmt.Errorf("%s: graph %d %s: %s", what, ge.status, ge.code, ge.message)
	}
	return fmt.Errorf("%s: %w", what, err)
}
