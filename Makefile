# xtsync: build, test, demo and lint. See README.md.
#
#   make build   bin/xtsync (static, CGO_ENABLED=0)
#   make test    npm ci (when node_modules is missing or stale), then
#                scripts/testenv.mjs: dynalite + fauxqs on loopback and
#                go test ./... against them. TESTARGS replaces go test's
#                arguments, e.g. make test TESTARGS='-run TestDemo ./cmd/...'
#   make demo    build, then bin/xtsync demo
#   make lint    go vet and staticcheck
#   make clean   remove bin/ and .xtsync/ (distclean: node_modules/ too)

GO    ?= go
NODE  ?= node
NPM   ?= npm
BIN   := bin/xtsync

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# npm ci runs again when package.json or package-lock.json is newer than the
# stamp it leaves in node_modules.
NPM_STAMP := node_modules/.xtsync-npm-ci

.PHONY: all build test demo lint clean distclean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/xtsync

$(NPM_STAMP): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

test: $(NPM_STAMP)
	$(NODE) scripts/testenv.mjs $(TESTARGS)

demo: build
	./$(BIN) demo

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin .xtsync

distclean: clean
	rm -rf node_modules
