// A Kubewarden WASI policy in plain Go (GOOS=wasip1 GOARCH=wasm), standard library only.
//
// Kubewarden runs a WASI policy as a command: argv[1] is the action, all of stdin is its
// input and stdout its answer (spec §3.2):
//
//	policy.wasm validate            stdin ValidationRequest  -> stdout ValidationResponse
//	policy.wasm validate-settings   stdin settings object    -> stdout SettingsValidationResponse
//
// validate rejects a pod whose spec sets hostNetwork: true; validate-settings accepts any
// object except one with "forbidden": true. Bad input or an unknown action is reported on
// stderr with exit status 1, which the host turns into a 500 rejection or invalid settings.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

type validationRequest struct {
	Request struct {
		Object struct {
			Spec struct {
				HostNetwork bool `json:"hostNetwork"`
			} `json:"spec"`
		} `json:"object"`
	} `json:"request"`
}

type validationResponse struct {
	Accepted bool   `json:"accepted"`
	Message  string `json:"message,omitempty"`
}

type settingsValidationResponse struct {
	Valid   bool   `json:"valid"`
	Message string `json:"message,omitempty"`
}

func main() {
	if len(os.Args) < 2 {
		fail("missing action: expected validate or validate-settings as argv[1]")
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("cannot read stdin: " + err.Error())
	}
	switch os.Args[1] {
	case "validate":
		respond(validate(input))
	case "validate-settings":
		respond(validateSettings(input))
	default:
		fail(fmt.Sprintf("unknown action %q: expected validate or validate-settings", os.Args[1]))
	}
}

func validate(input []byte) validationResponse {
	var request validationRequest
	if err := json.Unmarshal(input, &request); err != nil {
		fail("cannot decode the validation request: " + err.Error())
	}
	if request.Request.Object.Spec.HostNetwork {
		return validationResponse{Accepted: false, Message: "host networking is not allowed"}
	}
	return validationResponse{Accepted: true}
}

func validateSettings(input []byte) settingsValidationResponse {
	var settings map[string]json.RawMessage
	if err := json.Unmarshal(input, &settings); err != nil {
		return settingsValidationResponse{Valid: false, Message: "settings must be a JSON object"}
	}
	var forbidden bool
	if raw, ok := settings["forbidden"]; ok && json.Unmarshal(raw, &forbidden) == nil && forbidden {
		return settingsValidationResponse{Valid: false, Message: "settings forbid this policy"}
	}
	return settingsValidationResponse{Valid: true}
}

func respond(response any) {
	if err := json.NewEncoder(os.Stdout).Encode(response); err != nil {
		fail("cannot write the response: " + err.Error())
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, message)
	os.Exit(1)
}
