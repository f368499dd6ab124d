"""The names of the files a sweep folder holds (shared by the runner, the writer and plots)."""

JOURNAL = "runs.jsonl"
RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"
META = "sweep.json"
SWEEP_COPY = "sweep.yaml"
OWN_FILES = (JOURNAL, RESULTS_CSV, RESULTS_PARQUET, META, SWEEP_COPY)
"""Every file a sweep writes besides its plots: what ``--force`` may replace."""
