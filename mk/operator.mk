# Operator model and rendering: the CRD in crds/ is generated from the models in operator/req1_operator/spec/.
.PHONY: crds

crds: venv ## regenerate crds/req1instances.yaml from the pydantic spec (and the chart copy + install manifest)
	@mkdir -p crds
	$(VENV_PY) -m req1_operator.crd > crds/req1instances.yaml.tmp
	mv crds/req1instances.yaml.tmp crds/req1instances.yaml
	@if [ -d charts/req1-operator ] && [ -x .cache/bin/helm ]; then $(MAKE) --no-print-directory manifests; fi

.PHONY: bench-failover
bench-failover: venv cluster-build helm ## kill the PostgreSQL primary 20 times under a write load (writes docs/benchmarks/failover.md; root)
	$(VENV_PY) bench/failover.py $(BENCH_FAILOVER_ARGS)

.PHONY: bench-switchover
bench-switchover: venv cluster-build helm ## switch the PostgreSQL primary over 10 times under a write load (writes docs/benchmarks/switchover.md; root)
	$(VENV_PY) bench/switchover.py $(BENCH_SWITCHOVER_ARGS)
