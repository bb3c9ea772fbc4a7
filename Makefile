# Kite. `make run` and `make test` install what is missing first.
GO      ?= go
TAGS    := sqlite_fts5
GOFLAGS_TAGS := -tags $(TAGS)
export CGO_ENABLED := 1

# Debian packages needed to build and test (DESIGN.md §11).
DEBS := gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev \
	libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev libwayland-dev \
	libxkbcommon-dev xvfb xauth libgl1-mesa-dri dbus dbus-x11 xdotool imagemagick \
	iproute2 iptables xz-utils

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0

.PHONY: all deps build run test test-short bench check screenshots clean

all: build

deps:
	@missing=""; \
	for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1; then \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		echo "installing:$$missing"; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	else \
		echo "Kite needs a C compiler, OpenGL and X11 (or Wayland) headers to build."; \
		echo "On Debian/Ubuntu these are:$$missing"; \
		echo "On macOS: xcode-select --install. On Windows: MSYS2 mingw-w64 gcc."; \
	fi
	@command -v $(GO) >/dev/null 2>&1 || { echo "Go 1.26 is needed: https://go.dev/dl/"; exit 1; }

build: deps
	$(GO) build $(GOFLAGS_TAGS) -o bin/kite ./cmd/kite

run: build
	./bin/kite

test: deps
	$(GO) vet $(GOFLAGS_TAGS) ./...
	$(GO) test $(GOFLAGS_TAGS) -race -shuffle=on -timeout 20m ./...

test-short: deps
	$(GO) test $(GOFLAGS_TAGS) -short ./...

bench: build
	$(GO) run $(GOFLAGS_TAGS) ./cmd/kitebench -kite ./bin/kite -out BENCHMARKS.md

check: deps
	$(GO) vet $(GOFLAGS_TAGS) ./...
	$(GO) run $(STATICCHECK) -tags $(TAGS) ./...

screenshots: build
	./scripts/screenshots.sh docs/screenshots

clean:
	rm -rf bin
