# Server domain: benchmark of the hot paths (figures go to docs/benchmarks/domain.md).
.PHONY: bench-domain

bench-domain: venv ## seed 100,000 objects and measure edit, list, search, baseline, diff, ReqIF import
	$(VENV_PY) bench/domain/bench_domain.py
