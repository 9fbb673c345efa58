# PoolDesk: the README's first lines name `make demo` and `make test`.
# Both work on a fresh Debian/Ubuntu machine: they install the system packages
# (as root, or with sudo), create .venv and install the project into it.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := mosquitto mosquitto-clients mosquitto-dev libmosquitto-dev libssl-dev gcc \
                rabbitmq-server postgresql curl caddy openssl systemd libegl1 libgl1 libxkbcommon0 \
                libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-cursor0 \
                libxcb-icccm4 libxcb-keysyms1 python3-venv wrk xvfb xdotool strace zbar-tools

.PHONY: demo test setup system-deps venv mpwasm bench-firmware lint clean

demo: setup
	$(PY) -m pooldesk demo

test: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

setup: system-deps venv mpwasm

# The official MicroPython WebAssembly port (pinned in tools/mpwasm/package-lock.json), run
# under node by the firmware RAM bench and its test.
MPWASM := tools/mpwasm/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs
mpwasm: $(MPWASM)

$(MPWASM): tools/mpwasm/package.json tools/mpwasm/package-lock.json
	npm ci --prefix tools/mpwasm --no-audit --no-fund
	touch $@

bench-firmware: setup
	$(PY) -m bench.firmware_ram

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	  case "$$missing" in *rabbitmq-server*) \
	    if [ -d /run/systemd/system ]; then \
	      echo "RabbitMQ is for the cluster test only (it starts its own loopback nodes):"; \
	      echo "stopping and disabling the system service Debian started"; \
	      $(SUDO) systemctl disable --now rabbitmq-server epmd.socket epmd.service || true; \
	    fi;; esac; \
	fi
	@# node and npm: Debian's packages, unless a node that brings its own npm is installed
	@# (NodeSource's nodejs conflicts with Debian's npm package).
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
	  echo "installing system packages: nodejs npm"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

clean:
	rm -rf $(VENV) build dist .pytest_cache tools/mpwasm/node_modules
