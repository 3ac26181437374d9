"""tau-bench / tau2-bench results into Braintrust: `python -m ingest PATH ...`."""
