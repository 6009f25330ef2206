// Command echo is internal/rie's test function: it answers an invoke with
// its payload, unchanged. A payload object with one of these keys asks for
// something else instead:
//
//	{"echoError": "msg"}   fail with the error msg
//	{"echoGetenv": "NAME"} answer the environment variable NAME, as a JSON string
//	{"echoSleepMs": N}     sleep N ms (past the deadline, if so), then echo
//
// Build it with -tags lambda.norpc (rie.Build does).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(handle)
}

// handle echoes payload, or does what its echo* key asks.
func handle(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
	var cmd struct {
		Error   *string `json:"echoError"`
		Getenv  *string `json:"echoGetenv"`
		SleepMs int     `json:"echoSleepMs"`
	}
	_ = json.Unmarshal(payload, &cmd) // not an object: echo it
	fmt.Fprintf(os.Stderr, "echo: %d bytes\n", len(payload))
	switch {
	case cmd.Error != nil:
		return nil, errors.New(*cmd.Error)
	case cmd.Getenv != nil:
		return json.Marshal(os.Getenv(*cmd.Getenv))
	case cmd.SleepMs > 0:
		// Sleeps past the deadline on purpose: the emulator, not the
		// function, must end an invoke that runs too long.
		time.Sleep(time.Duration(cmd.SleepMs) * time.Millisecond)
	}
	return payload, nil
}
