"""Analysis modules that plots.py and run_experiments.sh use (stdlib only, except the figures)."""
