# Voxanne Edge: the two commands are `make run` and `make test`.

SHELL := /bin/bash

NGINX_BIN  ?= /usr/sbin/nginx
NGINX_SRC  ?=
PORT       ?= 8080
PROVE_JOBS ?= 2
T          ?= t/

export NGINX_BIN NGINX_SRC PORT PROVE_JOBS T

.PHONY: all deps build test run clean

all: build

deps:
	@scripts/deps

# scripts/build configures once and then rebuilds only what changed
build: deps
	@scripts/build

test: build
	@scripts/test

run: build
	@scripts/run

clean:
	rm -rf build t/servroot* t/pgdata* t/tmp
