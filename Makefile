# The two commands a newcomer needs:
#   make run   - render the example fleet's manifests (no cluster needed)
#   make test  - lint, sanity, Molecule, unit, integration and apply-mode tests
# Both bootstrap everything they need (venvs, Debian packages) on a fresh machine;
# `make test` also builds the control plane (kube-apiserver, etcd) with Go.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(firstword $(wildcard /root/.pyenv/versions/3.12.*/bin/python3.12) $(shell command -v python3.12 2>/dev/null) python3)
VENV := .venv
NCA_VENV := .venv-nca
# The oldest ansible-core the collection claims (meta/runtime.yml), to test that claim.
FLOOR_VENV := .venv-floor
ANSIBLE_FLOOR := $(shell sed -n 's/^requires_ansible: ">=\([0-9.]*\)"/\1/p' meta/runtime.yml)
BIN := $(CURDIR)/$(VENV)/bin
COLLECTION_LINK := .collections/ansible_collections/k8s_monitoring/prometheus
RENDER_DIR := build/rendered
DEBIAN_PACKAGES := prometheus prometheus-pushgateway nginx apache2-utils wrk shellcheck graphviz

export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export ANSIBLE_FORCE_COLOR := false
export PATH := $(BIN):$(PATH)

.PHONY: help run test bootstrap system-packages controlplane lint docs-lint docs graph sanity unit integration pytest molecule molecule-cluster clean

help:
	@echo "make run    render manifests for the example inventory into $(RENDER_DIR)/<cluster>/"
	@echo "make test   lint, ansible-test sanity, Molecule, unit, integration and apply-mode tests"
	@echo "make controlplane   build kube-apiserver, etcd and kubectl (Go) into .cache/controlplane/"
	@echo "make docs   HTML docs (modules, roles, README guides) into build/docs/html/"
	@echo "make graph  render, then draw who may connect to whom per cluster (connectivity.svg/png)"
	@echo "            (or: make run GRAPH=1)"

$(VENV)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

$(NCA_VENV)/.installed: requirements-nca.txt
	$(PYTHON) -m venv $(NCA_VENV)
	$(NCA_VENV)/bin/pip install --quiet -r requirements-nca.txt
	touch $@

$(FLOOR_VENV)/.installed: requirements.txt meta/runtime.yml
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/pip install --quiet ansible-core==$(ANSIBLE_FLOOR) -r requirements.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

bootstrap: $(VENV)/.installed $(COLLECTION_LINK)

system-packages:
	@scripts/install-debian-packages.sh $(DEBIAN_PACKAGES)

run: bootstrap
	$(BIN)/ansible-playbook -i inventory/example site.yml -e k8s_monitoring_mode=render \
	  -e k8s_monitoring_render_dir=$(RENDER_DIR)/{{inventory_hostname}}
	$(BIN)/python scripts/render_summary.py $(RENDER_DIR)
	$(if $(GRAPH),NCA=$(CURDIR)/$(NCA_VENV)/bin/nca $(BIN)/python -m tests.connectivity_graph $(RENDER_DIR))

# The analyzer's connectivity of each rendered cluster under its NetworkPolicies,
# drawn with Graphviz beside the manifests: build/rendered/<cluster>/connectivity.{svg,png}.
graph: $(NCA_VENV)/.installed system-packages
	$(MAKE) --no-print-directory run GRAPH=1

# pytest runs last, once over unit and integration tests, so its summary is the
# closing line; "no tests collected" (exit 5) fails the run like any failure.
test: bootstrap $(NCA_VENV)/.installed $(FLOOR_VENV)/.installed system-packages controlplane lint docs-lint docs sanity molecule molecule-cluster pytest

# kube-apiserver, etcd and kubectl from tests/controlplane/go.mod, into
# .cache/controlplane/<hash of go.mod and go.sum>/bin; a no-op once built.
controlplane: bootstrap
	$(BIN)/python -m tests.control_plane build

pytest: bootstrap $(NCA_VENV)/.installed $(FLOOR_VENV)/.installed system-packages controlplane
	K8S_MONITORING_REQUIRE_SERVICES=1 NCA=$(CURDIR)/$(NCA_VENV)/bin/nca $(BIN)/pytest tests/unit tests/integration

lint: bootstrap
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint --profile production --offline

# antsibull-docs checks every module's and role's documentation the way the docs
# site renders it (markup, references to this collection and its dependencies).
# It copies dependencies found in a git work tree with `git ls-files`, and
# kubernetes.core sits in .venv inside this one: git's search stops at the root.
docs-lint: bootstrap
	GIT_CEILING_DIRECTORIES=$(CURDIR) $(BIN)/antsibull-docs lint-collection-docs --plugin-docs \
	  --validate-collection-refs dependent .

docs: bootstrap
	scripts/build-docs.sh

sanity: bootstrap
	scripts/ansible-test-sanity.sh

unit: bootstrap
	$(BIN)/pytest tests/unit

integration: bootstrap $(NCA_VENV)/.installed $(FLOOR_VENV)/.installed system-packages controlplane
	K8S_MONITORING_REQUIRE_SERVICES=1 NCA=$(CURDIR)/$(NCA_VENV)/bin/nca $(BIN)/pytest tests/integration

molecule: bootstrap
	$(BIN)/molecule test -s render

# The `cluster` scenario against a control plane started for it and stopped by PID,
# also when the scenario fails.
molecule-cluster: bootstrap controlplane
	@kubeconfig="$$(scripts/control-plane up)" && trap 'scripts/control-plane down' EXIT && \
	  $(BIN)/molecule reset -s cluster && KUBECONFIG="$$kubeconfig" $(BIN)/molecule test -s cluster

clean:
	rm -rf $(VENV) $(NCA_VENV) $(FLOOR_VENV) .collections build tests/output .pytest_cache  # .cache/controlplane is kept: a rebuild takes minutes
