# xtsync: build, test, demo and lint. See README.md.
#
#   make build   bin/xtsync (static, CGO_ENABLED=0)
#   make build-functions
#                each functions/<name>/main.go as bin/functions/<name>/bootstrap
#                for Lambda (linux, GOARCH=$(FUNCTIONS_ARCH), default arm64)
#   make test    npm ci (when node_modules is missing or stale), the Lambda
#                Runtime Interface Emulator into bin/ (when missing), Debian's
#                chromium for the browser tests (scripts/ensure-chromium.sh:
#                apt-get as root or via sudo, when /usr/bin/chromium is
#                missing), then
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

# The AWS Lambda Runtime Interface Emulator, for tests that run the functions
# (internal/rie).
RIE     := bin/aws-lambda-rie
RIE_PKG := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d

# The Lambda architecture of make build-functions: arm64 or amd64.
FUNCTIONS_ARCH ?= arm64

# npm ci runs again when package.json or package-lock.json is newer than the
# stamp it leaves in node_modules.
NPM_STAMP := node_modules/.xtsync-npm-ci

.PHONY: all build test demo lint clean distclean image

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -o $(BIN) ./cmd/xtsync

.PHONY: build-functions
build-functions:
	@set -e; for dir in functions/*/; do \
		name=$$(basename "$$dir"); \
		[ -f "functions/$$name/main.go" ] || continue; \
		echo "functions/$$name -> bin/functions/$$name/bootstrap (linux/$(FUNCTIONS_ARCH))"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$(FUNCTIONS_ARCH) $(GO) build -tags lambda.norpc \
			-trimpath -ldflags='-s -w' -o bin/functions/$$name/bootstrap ./functions/$$name; \
	done

$(NPM_STAMP): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

# Installed once, when missing.
$(RIE):
	GOBIN=$(CURDIR)/bin $(GO) install $(RIE_PKG)

test: $(NPM_STAMP) $(RIE)
	@scripts/ensure-chromium.sh
	$(NODE) scripts/testenv.mjs $(TESTARGS)

demo: build
	./$(BIN) demo

# The container image (bin/xtsync-image.tar, for docker load / podman load
# or skopeo): the static linux binary, CA certificates, a non-root user;
# reproducible: every time is the last commit's (SOURCE_DATE_EPOCH).
IMAGE_ARCH ?= $(shell $(GO) env GOARCH)
image:
	mkdir -p bin
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -trimpath -buildvcs=auto -ldflags=-s -o bin/xtsync-linux-$(IMAGE_ARCH) ./cmd/xtsync
	SOURCE_DATE_EPOCH=$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || echo 0)} \
		$(GO) run ./cmd/xtsync-image -binary bin/xtsync-linux-$(IMAGE_ARCH) -arch $(IMAGE_ARCH) \
		-revision "$$(git rev-parse HEAD 2>/dev/null)" -o bin/xtsync-image.tar

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin .xtsync

distclean: clean
	rm -rf node_modules

# make synth: the CloudFormation templates of the CDK app (infra/, cdk.json)
# in cdk.out, with the aws-cdk CLI from the committed npm lock. It builds the
# functions for arm64 first and needs no AWS credentials. XTSYNC_CONFIG is
# the configuration file the stack stores in SSM; CDK_ARGS adds CLI
# arguments, e.g. CDK_ARGS='-c xtsync:workerMaxConcurrency=3'.
XTSYNC_CONFIG ?= infra/xtsync.example.yaml
CDK_ARGS      ?=
CDK           := node_modules/.bin/cdk

.PHONY: synth
synth: $(NPM_STAMP)
	$(MAKE) build-functions FUNCTIONS_ARCH=arm64
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(CDK) synth --quiet --no-notices \
		-c xtsync:configFile=$(XTSYNC_CONFIG) $(CDK_ARGS)
