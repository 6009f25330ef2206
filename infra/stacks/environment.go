package stacks

import "github.com/xtsync/xtsync/pkg/contract"

// The environment the functions read (pkg/lambdaapp): the contract between
// the stack and the function code, from pkg/contract.
const (
	EnvConfigParameter = contract.EnvConfigParameter
	EnvTable           = contract.EnvTable
	EnvQueueURL        = contract.EnvQueueURL
	EnvSourceSecretARN = contract.EnvSourceSecretARN
	EnvTargetSecretARN = contract.EnvTargetSecretARN
	EnvConfigDigest    = contract.EnvConfigDigest
	EnvRevision        = contract.EnvRevision
)
