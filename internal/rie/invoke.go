package rie

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// reportWait bounds how long Invoke waits for the REPORT line of a
// successful invoke, which the RIE prints just before it answers.
const reportWait = 5 * time.Second

// FunctionError is an invoke that reached the function and failed: the
// function returned an error (the RIE answers 200 with the error as the
// body, where the real Invoke API would add X-Amz-Function-Error), the
// runtime exited or was killed (502, Runtime.ExitError), or the invoke
// timed out (Type Sandbox.Timedout, as Lambda names it).
type FunctionError struct {
	// StatusCode is the RIE's HTTP status.
	StatusCode int
	// Type is the errorType, such as "errorString" or "Runtime.ExitError".
	Type string
	// Message is the errorMessage.
	Message string
}

// Error describes the failure.
func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error (status %d): %s: %s", e.StatusCode, e.Type, e.Message)
}

// Invoke invokes the function with payload and returns its response. A
// failure of the function is a *FunctionError, returned with the body; other
// errors are the RIE's or the connection's (after Kill, the next Invoke
// fails with a *FunctionError of type Runtime.ExitError). A body of exactly
// the shape of a Lambda error, {"errorMessage":...,"errorType":...}, is
// taken for one: the RIE answers function errors that way, with 200 and no
// other sign. After a successful invoke, Invoke waits for its REPORT line
// (see Reports). Concurrent Invokes run one after another, as events do in
// one execution environment.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.invoking.Lock()
	defer f.invoking.Unlock()
	id := requestID()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.invokeURL, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("rie invoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amzn-RequestId", id)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("rie invoke %s: %w", id, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("rie invoke %s: read response: %w", id, err)
	}
	if resp.StatusCode == http.StatusOK {
		f.waitReport(ctx, id)
	}
	if fe := functionError(resp.StatusCode, body); fe != nil {
		return body, fe
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("rie invoke %s: status %d: %.512s", id, resp.StatusCode, body)
	}
	return body, nil
}

// functionError recognizes a function failure in an RIE response.
func functionError(status int, body []byte) *FunctionError {
	if status == http.StatusOK {
		if msg, ok := strings.CutPrefix(string(body), "Task timed out after "); ok {
			return &FunctionError{StatusCode: status, Type: "Sandbox.Timedout", Message: "Task timed out after " + msg}
		}
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return nil
	}
	var e struct {
		Message *string `json:"errorMessage"`
		Type    *string `json:"errorType"`
	}
	if json.Unmarshal(body, &e) != nil || e.Message == nil || e.Type == nil {
		return nil
	}
	for k := range fields {
		if k != "errorMessage" && k != "errorType" && k != "stackTrace" {
			return nil
		}
	}
	return &FunctionError{StatusCode: status, Type: *e.Type, Message: *e.Message}
}

// waitReport waits until the REPORT line of request id has been read, or
// reportWait passes (then it notes so in the test log).
func (f *Function) waitReport(ctx context.Context, id string) {
	timer := time.NewTimer(reportWait)
	defer timer.Stop()
	for {
		f.mu.Lock()
		for _, r := range f.reports {
			if r.RequestID == id {
				f.mu.Unlock()
				return
			}
		}
		added := f.added
		f.mu.Unlock()
		select {
		case <-added:
		case <-f.exited:
			return
		case <-ctx.Done():
			return
		case <-timer.C:
			f.log("rie: ", "no REPORT line for "+id+" within "+reportWait.String())
			return
		}
	}
}

// requestID returns a random UUID (version 4) for an invoke.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
