"""Running the model from outside: single runs, comparisons, sweeps, the command line."""
