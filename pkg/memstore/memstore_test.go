package memstore_test

import (
	"testing"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/engine/storetest"
	"github.com/xtsync/xtsync/pkg/memstore"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.Store { return memstore.New() })
}
