# The two commands of the README: `make demo` (the main job) and `make test` (the test suite).
# Each installs what it needs first (scripts/setup.sh is idempotent).
.PHONY: setup demo test lint bench fixtures

setup:
	@bash scripts/setup.sh

demo: setup
	@node bin/mimmx.js demo

test: setup
	@npx --no-install tsc -p tsconfig.json --noEmit
	@npx --no-install biome check src test bench scripts
	@node scripts/run-tests.js

lint: setup
	@npx --no-install biome check src test bench scripts

# Regenerates the committed golden values (PyTorch), the loader fixtures (pydicom, nibabel) and the
# CLAHE reference values (OpenCV).
fixtures:
	/usr/bin/python3 scripts/make-golden.py
	/usr/bin/python3 scripts/make-data-fixtures.py
	/usr/bin/python3 scripts/make-clahe-fixtures.py
