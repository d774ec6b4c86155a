"""Tools: the command line, benchmarks and cost estimates, run folders, evaluation, grading, installing."""
